"""`voldoctor check`: the pre-lab checklist, as a small tree of checks.

A failed parent skips its children and says why. Checks read the daemon's
state once; the few that write (the scratch volume and the round trip) go
through daemon.Prober, whose objects carry io.voldoctor.probe=1 and are
removed on every path out.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voldoctor.daemon_facts import probe_name, provably_ours
from voldoctor.state import DaemonState

STALE_AFTER = 300  # seconds: labelled probe objects older than this are leftovers of a crashed run
GIB = 1024 ** 3


class LabProfile(BaseModel):
    """What the lab needs; the module's own lab is the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    image: str = "docker/getting-started:latest"
    port: int = Field(default=8965, ge=1, le=65535)
    volume: str = "my-data"
    path: str = "/app/data"


def load_profile(path: Optional[str]) -> LabProfile:
    if not path:
        return LabProfile()
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return LabProfile.model_validate(data)
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"{path}: {where}: {err['msg']}") from None


@dataclass
class Result:
    status: str  # pass | warn | fail | skip
    message: str
    fix: list[str] = field(default_factory=list)
    duration_ms: int = 0


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    parent: Optional[str]
    run: Callable[["Context"], Result]
    live: bool = False  # needs a live daemon (not a replay)
    limit: float = 0.0  # seconds; 0 means the --timeout


CHECKS: list[Check] = []


def check(id: str, title: str, parent: Optional[str] = None, *, live: bool = False, limit: float = 0.0):
    def deco(fn):
        CHECKS.append(Check(id, title, parent, fn, live, limit))
        return fn

    return deco


@dataclass
class Context:
    profile: LabProfile
    timeout: float
    image: Optional[str] = None
    pull: bool = False
    state: Optional[DaemonState] = None
    endpoint_error: Optional[object] = None
    endpoint: Optional[object] = None
    prober: Optional[object] = None
    project: Optional[object] = None  # the project folder read with --project (or found here)

    @property
    def replay(self) -> bool:
        return self.state is not None and self.state.replay

    def get_prober(self):
        if self.prober is None:
            from voldoctor import daemon

            self.prober = daemon.Prober(self.endpoint, self.timeout)
        return self.prober


def _daemon_fix(ctx: Context) -> list[str]:
    """The fix lines of the daemon rules, so check and diagnose agree."""
    from voldoctor import engine, probes, rules

    rs = rules.load()
    st = ctx.state
    subs = probes.subjects(st, probes.Query(), {"daemon"})
    diags = engine.evaluate([r for r in rs.for_symptom("daemon-unreachable") if r.scope == "daemon"], subs)
    return list(diags[0].fix) if diags else []


# ------------------------------------------------------------ the checks


@check("endpoint", "Daemon address")
def _endpoint(ctx: Context) -> Result:
    if ctx.endpoint_error is not None:
        err = ctx.endpoint_error
        if err.kind == "config-corrupt":  # the daemon rules know this case; say the same as diagnose
            return Result("fail", f"{err.detail}", _daemon_fix(ctx))
        return Result("fail", f"{err.detail}", ["unset DOCKER_HOST DOCKER_CONTEXT; docker context use default"])
    ep = ctx.endpoint if ctx.state is None else ctx.state.endpoint
    return Result("pass", f"{ep.url} (context {ep.context}, from {ep.origin})")


@check("socket", "Daemon socket present and usable", "endpoint")
def _socket(ctx: Context) -> Result:
    ep = ctx.state.endpoint if ctx.state is not None else ctx.endpoint
    if ctx.replay:
        return Result("skip", "replay: the socket is on the learner's machine")
    if not ep.socket_path:
        return Result("pass", f"not a unix socket ({ep.url.split(':', 1)[0]}); nothing to check here")
    p = ep.socket_path
    if not os.path.exists(p):
        return Result("fail", f"no socket at {p}: the daemon is not running (or listens elsewhere)", _daemon_fix(ctx))
    if not os.access(p, os.R_OK | os.W_OK):
        return Result("fail", f"{p} belongs to group {ep.socket_group or '?'}, and you are not allowed to open it",
                      _daemon_fix(ctx))
    return Result("pass", f"{p} is usable")


@check("daemon", "Docker daemon reachable", "socket")
def _daemon(ctx: Context) -> Result:
    st = ctx.state
    if st.reachable:
        return Result("pass", f"{st.endpoint.url} answers" + (" (snapshot)" if st.replay else ""))
    return Result("fail", st.error.detail if st.error else "no answer", _daemon_fix(ctx))


@check("version", "Docker engine and API version", "daemon")
def _version(ctx: Context) -> Result:
    i = ctx.state.info
    major = int((i.server_version.split(".")[0] or "0")) if i.server_version[:1].isdigit() else 0
    where = "Docker Desktop" if i.desktop else (i.os or "unknown OS")
    msg = f"Docker {i.server_version}, API {i.api_version}, {where}" + (", rootless" if i.rootless else "")
    if 0 < major < 20:
        return Result("warn", msg + ": older than the course expects", ["Update Docker to a current release"])
    return Result("pass", msg)


@check("volume-driver", "The 'local' volume driver", "daemon")
def _driver(ctx: Context) -> Result:
    drivers = ctx.state.info.volume_drivers
    if not drivers:
        return Result("skip", "the daemon did not list its volume drivers")
    if "local" in drivers:
        return Result("pass", "available (" + ", ".join(drivers) + ")")
    return Result("fail", "the daemon offers no 'local' volume driver: " + ", ".join(drivers),
                  ["The lab's volumes need the built-in 'local' driver; ask whoever set up this daemon"])


@check("scratch-volume", "Create, inspect and remove a volume", "daemon", live=True)
def _scratch(ctx: Context) -> Result:
    pr = ctx.get_prober()
    removed, kept = pr.remove_stale(STALE_AFTER)
    name = probe_name(10)
    pr.create_volume(name)
    info = pr.inspect_volume(name)
    pr.remove_volume(name)
    note = f"; removed {len(removed)} leftover(s) of an earlier interrupted run" if removed else ""
    if kept:
        return Result("warn", f"works (mountpoint {info.get('Mountpoint') or '?'}){note}; left alone: "
                      + "; ".join(kept), _removal_fixes(kept))
    return Result("pass", f"works (mountpoint {info.get('Mountpoint') or '?'}){note}")


def _other_port(port: int) -> int:
    """A port to suggest instead of a busy one: within 1-65535."""
    return port + 1 if port < 65535 else 8080


def _removal_fixes(kept: list[str]) -> list[str]:
    """How to remove, by hand, labelled objects voldoctor would not touch."""
    out = []
    for item in kept:
        kind, rest = item.split(" ", 1)
        name = rest.split(" (", 1)[0]
        verb = {"container": "rm", "volume": "volume rm"}[kind]
        out.append(f"Only if it is yours and you no longer need it: docker {verb} {shlex.quote(name)}   "
                   "(WARNING: deletes it; voldoctor leaves it alone because it cannot prove it made it)")
    return out


@check("volume-location", "Where volumes are kept", "daemon")
def _location(ctx: Context) -> Result:
    st = ctx.state
    root = st.info.root_dir or "/var/lib/docker"
    vols = f"{root}/volumes"
    if st.info.desktop:
        return Result("pass", f"inside Docker Desktop's virtual machine ({vols}), not on this computer's disk; "
                      "look inside with: docker run --rm -v VOLUME:/v busybox ls -la /v")
    if not st.endpoint.url.startswith("unix://"):
        return Result("pass", f"on the daemon's host ({st.endpoint.url}), at {vols} there")
    if st.replay:
        return Result("pass", f"{vols} on the learner's machine" + (" (rootless)" if st.info.rootless else ""))
    if os.path.isdir(root):
        return Result("pass", f"on this host: {vols}" + (" (rootless Docker: under your home)" if st.info.rootless else ""))
    return Result("pass", f"{vols} on the daemon's side; that folder is not visible from here (another VM, "
                  "container or machine)")


@check("disk-space", "Free space where volumes are kept", "volume-location")
def _disk(ctx: Context) -> Result:
    st = ctx.state
    root = st.info.root_dir
    if st.replay or not root or not os.path.isdir(root) or st.info.desktop:
        return Result("skip", "the daemon's disk is not visible from here")
    u = shutil.disk_usage(root)
    free = u.free / GIB
    msg = f"{free:.1f} GiB free of {u.total / GIB:.0f} GiB at {root}"
    if free < 1:
        return Result("fail", msg, ["See what Docker uses: docker system df",
                                    "Free space: docker image prune   (WARNING: deletes the images no container uses; "
                                    "volumes are not touched)"])
    if free < 5:
        return Result("warn", msg + ": tight for images and volumes", ["docker system df   (see what Docker uses)"])
    return Result("pass", msg)


@check("lab-image", "The lab's image", "daemon")
def _image(ctx: Context) -> Result:
    img = ctx.profile.image
    st = ctx.state
    if st.replay:
        return Result("skip", "replay: images are not part of a snapshot")
    pr = ctx.get_prober()
    if pr.image_present(img):
        return Result("pass", f"{img} is present locally")
    if ctx.pull:
        pr.pull(img)
        return Result("pass", f"{img} pulled")
    return Result("warn", f"{img} is not present locally; the lab's first docker run will pull it (needs internet)",
                  [f"docker pull {shlex.quote(img)}   (or run voldoctor check --pull)"])


@check("lab-port", "The lab's host port is free")
def _port(ctx: Context) -> Result:
    port = ctx.profile.port
    st = ctx.state
    users = []
    if st is not None and st.reachable:
        users = [c.name for c in st.containers for p in c.ports if p.public == port]
    if users:
        return Result("fail", f"port {port} is published by container {', '.join(users)}",
                      [f"docker stop {shlex.quote(users[0])}   (or use another port: docker run -p {_other_port(port)}:80 ...)"])
    if ctx.replay:
        return Result("pass", f"no container in the snapshot publishes {port}")
    for host in ("127.0.0.1", "::1"):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                if s.connect_ex((host, port)) == 0:
                    return Result("fail", f"something on this machine already listens on port {port}",
                                  [f"find it: ss -ltnp 'sport = :{port}'  (or lsof -i :{port})",
                                   f"or use another port in the lab: docker run -p {_other_port(port)}:80 ..."])
        except OSError:
            continue
    return Result("pass", f"nothing listens on {port} and no container publishes it")


@check("leftovers", "Leftovers of an earlier attempt", "daemon")
def _leftovers(ctx: Context) -> Result:
    st = ctx.state
    img = ctx.profile.image
    repo = img.split(":")[0]
    found = []
    if st.volume(ctx.profile.volume):
        found.append(f"volume {ctx.profile.volume}")
    ours = [c for c in st.containers if provably_ours(c.name, c.labels)]
    conts = [c for c in st.containers if (c.image in (img, repo) or c.image.startswith(repo + ":")) and c not in ours]
    found += [f"container {c.name} ({c.state})" for c in conts]
    own = [f"container {c.name}" for c in ours] + [f"volume {v.name}" for v in st.volumes
                                                  if provably_ours(v.name, v.labels)]
    if own:
        return Result("pass", ("found " + ", ".join(found) + "; " if found else "")
                      + "voldoctor's own scratch objects from an interrupted run: " + ", ".join(own)
                      + " (the scratch-volume check removes them)")
    if not found:
        return Result("pass", "none: a clean start")
    return Result("pass", "found " + ", ".join(found) + " (fine if you are continuing; "
                  f"docker volume inspect {shlex.quote(ctx.profile.volume)} shows when it was made)")


def _roundtrip_image(ctx: Context) -> tuple[Optional[str], str]:
    if ctx.image:
        return ctx.image, "--image"
    pr = ctx.get_prober()
    if pr.image_present(ctx.profile.image):
        return ctx.profile.image, "the lab image"
    return None, f"no image to run: {ctx.profile.image} is not present (give --image NAME, or --pull)"


def _scratch_volume(ctx: Context):
    """A fresh labelled volume for a round trip: the prober, its name, where to mount it."""
    pr = ctx.get_prober()
    return pr, pr.create_volume(probe_name(10)), "/voldoctor-probe"


@check("roundtrip", "The lab as a self-test: data survives its container", "scratch-volume", live=True, limit=60)
def _roundtrip(ctx: Context) -> Result:
    img, why = _roundtrip_image(ctx)
    if img is None:
        return Result("skip", why)
    pr, vol, path = _scratch_volume(ctx)
    token = uuid.uuid4().hex
    code, out = pr.run(img, f"echo {token} > {path}/proof", binds=[f"{vol}:{path}"])
    if code != 0:
        return Result("fail", f"a container of {img} could not write to a fresh volume (exit {code}: "
                      f"{out.strip()[:120]})", ["voldoctor diagnose \"permission denied\""])
    code, out = pr.run(img, f"cat {path}/proof", binds=[f"{vol}:{path}"])
    pr.remove_volume(vol)
    if code != 0 or token not in out:
        return Result("fail", "the file written by one container was not there for the next one",
                      ["voldoctor diagnose \"data is gone after docker rm\""])
    return Result("pass", f"wrote a file from one {img} container, removed it, read the file back from a new one")


@check("roundtrip-nonroot", "A non-root user and a fresh volume", "roundtrip", live=True, limit=60)
def _nonroot(ctx: Context) -> Result:
    img, why = _roundtrip_image(ctx)
    if img is None:
        return Result("skip", why)
    pr, vol, path = _scratch_volume(ctx)
    code, out = pr.run(img, f"touch {path}/proof", binds=[f"{vol}:{path}"], user="65534:65534")
    pr.remove_volume(vol)
    if code == 0:
        return Result("pass", "uid 65534 could write a fresh volume")
    return Result("pass", "uid 65534 could NOT write a fresh volume: it belongs to root. Expected; if your app "
                  "runs as a non-root user, see: voldoctor diagnose \"permission denied\"")


# ------------------------------------------------------------ running


def ids() -> list[str]:
    return [c.id for c in CHECKS]


def selected(only: list[str], skip: list[str]) -> list[Check]:
    want = set(only) if only else set(ids())
    return [c for c in CHECKS if c.id in want and c.id not in set(skip)]


def run_checks(ctx: Context, chosen: list[Check], on_start=None, on_done=None) -> list[tuple[Check, Result]]:
    """Run the checks in order. A failed (or skipped-for-failure) parent skips
    its children. Probe objects are removed whatever happens, Ctrl-C included."""
    results: dict[str, Result] = {}
    out: list[tuple[Check, Result]] = []
    by_id = {c.id: c for c in CHECKS}
    blocked: dict[str, str] = {}

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        for c in CHECKS:
            parent = c.parent
            reason = None
            while parent is not None:
                if parent in blocked:
                    reason = blocked[parent]
                    break
                parent = by_id[parent].parent
            if c not in chosen:
                # An unselected check still gates its children when it would fail;
                # the state-only ones are cheap, so evaluate them quietly.
                if not c.live and reason is None:
                    r = _run_one(ctx, c)
                    if r.status == "fail":
                        blocked[c.id] = f"{c.id} failed"
                continue
            if reason:
                r = Result("skip", f"skipped: {reason}")
                blocked[c.id] = reason
            elif c.live and ctx.replay:
                r = Result("skip", "replay: needs the live daemon")
            else:
                if on_start:
                    on_start(c)
                r = _run_one(ctx, c)
                if r.status == "fail":
                    blocked[c.id] = f"{c.id} failed"
            results[c.id] = r
            out.append((c, r))
            if on_done:
                on_done(c, r)
        return out
    finally:
        if ctx.prober is not None:
            prev = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
            import sys

            try:
                left = ctx.prober.cleanup(interrupted=sys.exc_info()[0] is not None)
                ctx.prober.close()
                if left:
                    print("voldoctor: could not remove " + "; ".join(left) + " (labelled io.voldoctor.probe=1; "
                          "the next voldoctor check removes them)", file=sys.stderr)
            finally:
                if prev is not None:
                    signal.signal(signal.SIGINT, prev)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _run_one(ctx: Context, c: Check) -> Result:
    from voldoctor.daemon import ProbeError

    limit = c.limit or ctx.timeout
    t0 = time.monotonic()
    try:
        r = c.run(ctx)
    except ProbeError as e:
        kind = e.error.kind
        msg = (f"the daemon did not answer within {limit:g}s" if kind == "timeout" else e.error.detail)
        r = Result("fail", msg, [])
    took = time.monotonic() - t0
    r.duration_ms = int(took * 1000)
    if took > limit and r.status != "fail":
        r = Result("fail", f"took {took:.1f}s, longer than its {limit:g}s limit ({r.message})", r.fix, r.duration_ms)
    return r


def summary(results: list[tuple[Check, Result]], strict: bool) -> dict:
    counts = {k: sum(1 for _, r in results if r.status == k) for k in ("pass", "warn", "fail", "skip")}
    failed = counts["fail"] > 0 or (strict and counts["warn"] > 0)
    return {**counts, "exit_code": 1 if failed else 0}


@check("project", "Project files")
def _project_files(ctx: Context) -> Result:
    """The project rules over the compose file, .env and Dockerfile (crossed with the daemon when it answered)."""
    if ctx.project is None:
        return Result("pass", "no project here: no compose file or Dockerfile (--project DIR names one)")
    from voldoctor import engine, rules

    st = ctx.state if ctx.state is not None and ctx.state.reachable else None
    rs = rules.load()
    diags = engine.evaluate([r for r in rs.rules.values() if r.scope == "project"],
                            {"project": engine.project_subjects(ctx.project, st, None)})
    bad = [d for d in diags if d.severity in ("error", "warning")]
    if not bad:
        return Result("pass", f"{ctx.project.compose_file or ctx.project.dir}: nothing to fix"
                      + ("" if st else " (read without the daemon)"))
    status = "fail" if any(d.severity == "error" for d in bad) else "warn"
    return Result(status, "; ".join(f"{d.title} [{d.rule}]" for d in bad), [d.fix[0] for d in bad])
