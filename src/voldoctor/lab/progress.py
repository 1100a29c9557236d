"""Where a learner is in a lab: each step of a pack done, todo or broken,
with the evidence, from a daemon state and what was seen inside volumes.

Pure: the state, the looks inside volumes and the rules are given. Containers
are matched by what they run and mount, never by their (random) names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from voldoctor.lab.pack import ContainerExpect, Expect, Pack, Step, split_mount
from voldoctor.state import Container, DaemonState

DONE, TODO, BROKEN = "done", "todo", "broken"


@dataclass(frozen=True)
class Looks:
    """What was seen inside volumes, beyond what the daemon's lists say."""

    visible: frozenset = frozenset()  # volumes that could be looked into
    oldest: dict = field(default_factory=dict)  # volume -> mtime of its oldest entry (None: empty)
    files: dict = field(default_factory=dict)  # "VOLUME:/path" -> content (None: no such file)


@dataclass(frozen=True)
class Seen:
    """One expectation, checked."""

    ok: bool
    evidence: str
    attempt: Optional[Container] = None  # the container that tried and got it wrong
    broken: bool = False  # a mistake, not just not yet done
    cause: str = ""
    fix: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepResult:
    id: str
    title: str
    status: str
    evidence: tuple[str, ...]
    look: bool = False
    cause: str = ""
    rule: str = ""
    fix: tuple[str, ...] = ()

    def json(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "evidence": list(self.evidence),
                "fix": list(self.fix), "cause": self.cause or None, "rule": self.rule or None, "look": self.look}


@dataclass(frozen=True)
class Progress:
    pack: Pack
    steps: tuple[StepResult, ...]
    current: Optional[str]
    reachable: bool
    container: Optional[str] = None  # the lab's container, for hints
    error: str = ""

    def json(self) -> dict:
        return {"pack": self.pack.id, "title": self.pack.title, "steps": [s.json() for s in self.steps],
                "current": self.current, "reachable": self.reachable, "error": self.error or None}


def norm_image(ref: str) -> str:
    r = ref.strip()
    for p in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"):
        if r.startswith(p):
            r = r[len(p):]
            break
    if "@" not in r and ":" not in r.rsplit("/", 1)[-1]:
        r += ":latest"
    return r


def runs(c: Container, image: str, state: DaemonState) -> bool:
    want = norm_image(image)
    if norm_image(c.image) == want:
        return True
    for img in state.images or ():
        if img.id == c.image_id and any(norm_image(t) == want for t in img.tags):
            return True
    return False


def mounts(c: Container, spec: str) -> bool:
    name, path = split_mount(spec)
    return any(m.type == "volume" and m.name == name and m.destination.rstrip("/") == path.rstrip("/")
               for m in c.mounts)


def describe(c: Container) -> str:
    ms = ", ".join(f"{(m.name[:12] if m.anonymous else m.name) or m.source} at {m.destination}" for m in c.mounts)
    ports = ", ".join(str(p.public) for p in c.ports if p.public)
    return (f"container {c.name} ({c.image}, {c.state or '?'})" + (f" mounts {ms}" if ms else " mounts nothing")
            + (f", publishes {ports}" if ports else ""))


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def _user_ok(c: Container, want: str) -> Optional[bool]:
    if c.detail is None:
        return None
    have = c.detail.user or "root"
    return have == want or have.split(":", 1)[0] == want or (want in ("root", "0") and have in ("root", "0"))


def container_misses(ce: ContainerExpect, c: Container, pack: Pack, state: DaemonState,
                     looks: Looks) -> list[tuple[str, str]]:
    """What this container lacks of the expectation, each as (kind, words):
    "config" (how it was run: a mistake), "state" (running or not) or "data"
    (nothing has outlived a container yet). Empty: it matches."""
    out = []
    image = pack.fill(ce.image)
    if not runs(c, image, state):
        out.append(("config", f"runs {c.image}, not {image}"))
    if ce.mount:
        spec = pack.fill(ce.mount)
        if not mounts(c, spec):
            name, path = split_mount(spec)
            at = [m for m in c.mounts if m.destination.rstrip("/") == path.rstrip("/")]
            out.append(("config", f"the lab wants {name} at {path}" if at else
                        f"nothing is mounted at {path}"))
    if ce.running is not None and (c.state == "running") != ce.running:
        out.append(("state", f"is {c.state or 'not running'}" if ce.running else "is still running"))
    if ce.user is not None:
        ok = _user_ok(c, pack.fill(ce.user))
        if ok is None:
            out.append(("state", "runs as a user I could not see"))
        elif not ok:
            out.append(("config", f"runs as {c.detail.user or 'root'}, not {pack.fill(ce.user)}"))
    if ce.port is not None:
        port = pack.port if ce.port == "{port}" else int(ce.port)
        if not any(p.public == port for p in c.ports):
            out.append(("config", f"does not publish port {port}"))
    if ce.data_from_before and not out:
        vol = split_mount(pack.fill(ce.mount))[0]
        if vol not in looks.visible:
            out.append(("data", f"I could not look inside {vol} from here"))
        elif looks.oldest.get(vol) is None:
            out.append(("data", f"{vol} is empty: nothing was written to it yet"))
        elif looks.oldest[vol] >= c.created - 2:
            out.append(("data", f"{vol} holds nothing older than this container: no file has outlived a "
                                "container yet"))
    return out


def check_container(ce: ContainerExpect, absent: bool, pack: Pack, state: DaemonState, looks: Looks) -> Seen:
    image = pack.fill(ce.image)
    spec = pack.fill(ce.mount) if ce.mount else None
    # a container Compose made belongs to a project, not to this lab (unless it mounts the lab's volume)
    cands = [c for c in state.containers if (spec and mounts(c, spec))
             or (runs(c, image, state) and "com.docker.compose.project" not in c.labels)]
    cands.sort(key=lambda c: (c.state != "running", -c.created))
    what = f"container of {image}" + (f" mounting {spec}" if spec else "")
    if absent:
        left = [c for c in cands if runs(c, image, state) and (spec is None or mounts(c, spec))]
        if left:
            return Seen(False, "still there: " + "; ".join(describe(c) for c in left[:3]))
        return Seen(True, f"no {what} is left")
    misses = {c.id: container_misses(ce, c, pack, state, looks) for c in cands}
    full = [c for c in cands if not misses[c.id]]
    if full:
        c = full[0]
        ev = describe(c)
        if ce.data_from_before and spec:
            vol = split_mount(spec)[0]
            ev += f"; {vol} holds data from {_clock(looks.oldest[vol])}, before the container was made " \
                  f"({_clock(c.created)})"
        return Seen(True, ev, c)
    if not cands:
        return Seen(False, f"no {what} yet")
    # The closest attempt: fewest mistakes in how it was run, then running, then newest.
    c = min(cands, key=lambda c: (sum(k == "config" for k, _ in misses[c.id]), len(misses[c.id])))
    miss = misses[c.id]
    config = any(k == "config" for k, _ in miss)
    return Seen(False, describe(c) + ", but " + "; ".join(t for _, t in miss), c, broken=config)


def check_expect(e: Expect, pack: Pack, state: DaemonState, looks: Looks) -> Seen:
    if e.container is not None:
        return check_container(e.container, e.absent, pack, state, looks)
    if e.volume is not None:
        name = pack.fill(e.volume)
        v = state.volume(name)
        users = state.volume_users().get(name, [])
        if e.absent:
            if v is None:
                return Seen(True, f"there is no volume {name}")
            return Seen(False, f"volume {name} still exists" + (f", used by {', '.join(users)}" if users else ""))
        if v is not None:
            return Seen(True, f"volume {name} exists (driver {v.driver}" + (f", used by {', '.join(users)}" if users
                                                                            else "") + ")")
        from voldoctor.facts.common import near_misses

        near = near_misses(name, [x.name for x in state.volumes])
        if near:
            return Seen(False, f"there is no volume {name}, but there is {near[0]}", broken=True)
        return Seen(False, f"there is no volume {name} yet")
    if e.file is not None:
        spec = pack.fill(e.file)
        vol, path = split_mount(spec)
        if state.volume(vol) is None:
            return Seen(e.absent, f"there is no volume {vol}")
        if vol not in looks.visible:
            return Seen(False, f"I could not look inside {vol} from here")
        content = looks.files.get(spec)
        if e.absent:
            return Seen(content is None, f"{vol} has no {path}" if content is None else f"{vol} still has {path}")
        if content is None:
            return Seen(False, f"{vol} has no file {path} yet")
        if e.content is not None and content.strip() != e.content.strip():
            shown = content.strip()[:40]
            return Seen(False, f"{path} in {vol} holds {shown!r}, not {e.content.strip()!r}", broken=True,
                        cause=f"The file {path} in {vol} has other content than the step expects.")
        return Seen(True, f"{vol} has {path}" + (f" holding {e.content.strip()!r}" if e.content is not None else ""))
    port = pack.port if e.port == "{port}" else int(e.port)
    by = [c.name for c in state.containers for p in c.ports if p.public == port]
    if e.absent:
        return Seen(not by, f"port {port} is published by {', '.join(by)}" if by else f"nothing publishes port {port}")
    return Seen(bool(by), f"container {by[0]} publishes port {port}" if by else f"no container publishes port {port}")


def _clean_up(step: Step) -> bool:
    return any(e.absent for e in step.expect)


def evaluate(pack: Pack, state: DaemonState, looks: Looks = Looks(), *, reached: Optional[str] = None,
             causes=None) -> Progress:
    """Each step's status. `reached`: the furthest step this learner was at
    before (a clean-up step is only done once the steps before it were done:
    a fresh machine has nothing to clean up either). `causes(step, seen)`
    gives (rule, cause, fix) from the rules for a broken expectation."""
    if not state.reachable:
        err = state.error.one_line() if state.error else "the daemon does not answer"
        steps = tuple(StepResult(s.id, pack.fill(s.title), TODO, ("the daemon could not be asked",), s.look) for s in pack.steps)
        return Progress(pack, steps, None, False, error=err)
    ids = [s.id for s in pack.steps]
    far = ids.index(reached) if reached in ids else -1
    results: list[StepResult] = []
    lab_container: Optional[str] = None
    for i, step in enumerate(pack.steps):
        seen = [check_expect(e, pack, state, looks) for e in step.expect]
        for s in seen:
            if s.ok and s.attempt is not None and lab_container is None:
                lab_container = s.attempt.name
        evidence = tuple(s.evidence for s in seen) or ("nothing to check: this step only looks",)
        if all(s.ok for s in seen) and (not _clean_up(step) or far >= i):
            results.append(StepResult(step.id, pack.fill(step.title), DONE, evidence, step.look))
            continue
        if all(s.ok for s in seen):
            evidence += ("nothing to clean up yet: the steps before come first",)
        bad = next((s for s in seen if s.broken), None)
        if bad is None:
            results.append(StepResult(step.id, pack.fill(step.title), TODO, evidence, step.look))
            continue
        rule, cause, fix = causes(step, bad) if causes else ("", bad.cause, bad.fix)
        results.append(StepResult(step.id, pack.fill(step.title), BROKEN, evidence, step.look, cause or bad.cause or bad.evidence,
                                  rule, tuple(fix)))
    # A finished clean-up: what it removed was done before it.
    last_clean = max((i for i, (s, r) in enumerate(zip(pack.steps, results)) if _clean_up(s) and r.status == DONE),
                     default=-1)
    for i in range(last_clean):
        if results[i].status != DONE:
            results[i] = StepResult(results[i].id, results[i].title, DONE,
                                    ("done earlier; cleaned up since",), results[i].look)
    current = next((r.id for r in results if r.status != DONE and not r.look), None)
    if lab_container is None:
        image = pack.image
        mine = sorted((c for c in state.containers if runs(c, image, state)),
                      key=lambda c: (c.state != "running", -c.created))
        lab_container = mine[0].name if mine else None
    return Progress(pack, tuple(results), current, True, lab_container)
