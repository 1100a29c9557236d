"""The one door to the daemon: the only module that imports `docker`.

It reads the state a question needs in a few list calls under one deadline,
and turns every failure into a DaemonError that names the endpoint it tried.
Where the endpoint is comes from voldoctor.endpoint; the JSON becomes state
in voldoctor.translate; host files are read by voldoctor.hostfs; the
scratch objects of `check` are made by voldoctor.prober through a Collector.
"""

from __future__ import annotations

import errno
import io
import json
import os
import socket
import ssl
import tarfile
import time
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import urlparse

from voldoctor import hostfs, translate
from voldoctor.daemon_facts import helper_image, probe_labels, probe_name
from voldoctor.deadline import hard_deadline
from voldoctor.endpoint import DEFAULT_SOCKET, EndpointError, config_dir, resolve_endpoint
from voldoctor.plan import ReadPlan
from voldoctor.state import ContainerDetail, DaemonError, DaemonState, Endpoint, Image, PathStat

__all__ = ["DEFAULT_SOCKET", "EndpointError", "resolve_endpoint", "collect", "unreachable", "Collector", "classify"]

MIN_API = "1.24"
MAX_INSPECT = 5  # containers inspected per question at most, whatever the daemon holds
MAX_REQUESTS = 10  # requests per question, whatever the daemon holds (a report may take more)
HELPER_COST = 5  # requests of one helper container: create, start, wait, logs, remove
DF_MAX_UNUSED = 200  # above this many unused volumes, /system/df costs more than their sizes tell
PASSWD_LIMIT = 256 * 1024
MAX_BODY = 64 * 1024 * 1024  # bytes: no honest answer to our requests comes near this
GRACE = 0.5  # seconds past --timeout before the hard deadline interrupts a read


class NotDockerError(Exception):
    """Something answered, but not as the Docker API does."""


class ResponseTooLarge(Exception):
    """The daemon's answer grew past MAX_BODY."""


# ------------------------------------------------------------ errors


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)


def classify(exc: BaseException, ep: Endpoint, timeout: float) -> DaemonError:
    """Turn whatever the SDK or transport raised into a DaemonError."""
    import docker.errors
    import requests.exceptions

    where = ep.url

    def err(kind: str, detail: str) -> DaemonError:
        return DaemonError(kind=kind, endpoint=where, detail=detail)

    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, ResponseTooLarge):
            return err("too-large", str(e))
    for e in chain:
        if isinstance(e, (requests.exceptions.Timeout, socket.timeout, TimeoutError)):
            return err("timeout", f"the daemon did not answer within {timeout:g}s (it may be hung or overloaded)")
    for e in chain:
        if isinstance(e, BlockingIOError) or (isinstance(e, OSError) and e.errno in (errno.EAGAIN, errno.EWOULDBLOCK)):
            return err("timeout", "the daemon accepts no more connections (its queue is full): "
                       "it may be hung or overloaded")
    for e in chain:
        if isinstance(e, (ssl.SSLError, requests.exceptions.SSLError, docker.errors.TLSParameterError)):
            return err("tls", f"TLS failed: {short(e)}")
    for e in chain:
        if isinstance(e, FileNotFoundError) or (isinstance(e, OSError) and e.errno == errno.ENOENT):
            return err("socket-missing", f"no socket at {ep.socket_path or where}: the daemon is not running (or listens elsewhere)")
        if isinstance(e, PermissionError) or (isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM)):
            return err("permission-denied", f"permission denied on {ep.socket_path or where}")
        if isinstance(e, ConnectionRefusedError):
            return err("connection-refused", "connection refused: nothing accepts connections there")
    for e in chain:
        mod = type(e).__module__ or ""
        if mod.startswith("paramiko") or "ssh" in type(e).__name__.lower():
            return err("ssh", f"SSH failed: {short(e)}")
    if isinstance(exc, docker.errors.APIError):
        code = getattr(exc.response, "status_code", None)
        return err("refused", f"the daemon refused the request (HTTP {code}): {exc.explanation or short(exc)}")
    for e in chain:
        if isinstance(e, (NotDockerError, json.JSONDecodeError, requests.exceptions.InvalidJSONError)):
            return err("not-docker", f"something answered, but not with the Docker API ({short(e)})")
        name = type(e).__name__
        if name in ("RemoteDisconnected", "BadStatusLine", "ProtocolError", "LineTooLong",
                    "ChunkedEncodingError", "InvalidChunkLength"):
            return err("not-docker", f"something answered, but not with the Docker API ({name})")
        if isinstance(e, ConnectionResetError):
            return err("not-docker", "the connection was closed at once: not a Docker API")
    if isinstance(exc, docker.errors.DockerException) and "ssh" in str(exc).lower():
        return err("ssh", short(exc))
    return err("other", short(exc))


def _path(url: str) -> str:
    return urlparse(url).path or url


def short(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ------------------------------------------------------------ collecting


class Collector:
    """One question's worth of daemon reads, each under a shared deadline."""

    def __init__(self, ep: Endpoint, timeout: float):
        self.ep = ep
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.requests = 0
        self.budget = MAX_REQUESTS
        self.client = None

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        return left

    def connect(self):
        import docker

        tls = None
        if self.ep.tls_verify or (self.ep.cert_dir and self.ep.url.startswith(("tcp", "https"))):
            d = Path(self.ep.cert_dir or config_dir(os.environ))
            tls = docker.tls.TLSConfig(
                client_cert=(str(d / "cert.pem"), str(d / "key.pem")),
                ca_cert=str(d / "ca.pem") if self.ep.tls_verify else None,
                verify=self.ep.tls_verify,
            )
        url = self.ep.url.replace("tcp://", "https://", 1) if tls else self.ep.url
        self.client = docker.APIClient(base_url=url, version=MIN_API, timeout=self._remaining(), tls=tls)
        self.client.hooks["response"].append(self._count)
        self.client.request = self._bounded(self.client.request)
        ver = self._call(self.client.version, api_version=False)
        if not isinstance(ver, dict) or not ver.get("ApiVersion"):
            raise NotDockerError("/version carries no ApiVersion")
        server_api = str(ver["ApiVersion"])
        from docker.utils import version_lt

        # The SDK negotiates the same way when given version="auto"; doing it
        # here keeps that request counted and under our deadline.
        self.client._version = server_api if version_lt(server_api, docker.constants.DEFAULT_DOCKER_API_VERSION) \
            else docker.constants.DEFAULT_DOCKER_API_VERSION
        return ver

    def _bounded(self, request):
        """Read every answer ourselves, in chunks, under the deadline and
        within MAX_BODY: a dribbling or endless answer ends in an error that
        names the endpoint instead of a hang or a process that eats memory."""

        def bounded(method, url, **kwargs):
            streaming = kwargs.get("stream", False)
            kwargs["stream"] = True
            resp = request(method, url, **kwargs)
            if streaming:
                return resp  # the caller reads it, with its own bound
            body = bytearray()
            try:
                for chunk in resp.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise ResponseTooLarge(f"the answer to {method} {_path(url)} grew past "
                                               f"{MAX_BODY // (1024 * 1024)} MiB; stopped reading")
                    self._remaining()
            except BaseException:
                resp.close()
                raise
            resp._content = bytes(body)
            resp._content_consumed = True
            return resp

        return bounded

    def left(self) -> int:
        """Requests this question may still make."""
        return self.budget - self.requests

    def _count(self, resp, *args, **kwargs):
        self.requests += 1
        return resp

    def _call(self, fn, *args, **kwargs):
        self.client.timeout = self._remaining()
        return fn(*args, **kwargs)

    def close(self):
        if self.client is not None:
            self.client.close()


def collect(ep: Endpoint, timeout: float = 10.0, plan: Optional[ReadPlan] = None,
            max_inspect: int = MAX_INSPECT, budget: int = MAX_REQUESTS) -> DaemonState:
    """Read the daemon's state. Never raises for daemon trouble: an unreachable
    daemon comes back as a state with reachable=False and the error.

    Every question reads the version, info, volume and container lists; the
    plan adds what this question needs (containers looked at closely, sizes,
    images, host paths and ports), bounded by the question, never by the
    number of objects on the daemon."""
    col = Collector(ep, timeout)
    col.budget = budget
    user = hostfs.local_user()
    try:
        with hard_deadline(timeout + GRACE):
            return _read_state(col, ep, plan, max_inspect, user)
    except Exception as e:  # every transport or SDK failure becomes a value
        return DaemonState(endpoint=ep, reachable=False, error=classify(e, ep, timeout),
                           local_user=user, requests=col.requests)
    finally:
        col.close()


def _read_state(col: Collector, ep: Endpoint, plan: Optional[ReadPlan], max_inspect: int,
                user: str) -> DaemonState:
    collected_at = time.time()
    ver = col.connect()
    info = col._call(col.client.info)
    vols = col._call(col.client.volumes) or {}
    raw_containers = col._call(col.client.containers, all=True)
    volumes = tuple(translate.volume(v) for v in (vols.get("Volumes") or []))
    anon = {v.name for v in volumes if "com.docker.volume.anonymous" in v.labels}
    state = DaemonState(endpoint=ep, reachable=True, info=translate.info(ver, info), volumes=volumes,
                        containers=tuple(translate.container(c, anon) for c in raw_containers), local_user=user)
    update: dict = {}
    if plan is not None:
        # What the question needs beyond the lists, most telling first, within
        # MAX_REQUESTS whatever the daemon holds.
        if "images" in plan.want and col.left() >= 1:
            update["images"] = _images(col, plan.images[:1])
        if "df" in plan.want and col.left() >= 1 and (col.budget > MAX_REQUESTS or _unused(state) <= DF_MAX_UNUSED):
            update["volume_sizes"] = translate.volume_sizes(col._call(col.client.df) or {})
        details = {}
        for cid in plan.pick(state)[:max_inspect]:
            if col.left() < 1:
                break
            details[cid] = _detail(col, cid, "changes" in plan.want)
        update["containers"] = tuple(
            c.model_copy(update={"detail": details[c.id]}) if c.id in details else c for c in state.containers
        )
    state = state.model_copy(update=update)
    inside = tuple(n for n in (plan.look_inside(state) if plan else ()) if state.volume(n) is not None)
    if state.local:
        extra = tuple(state.volume(n).mountpoint for n in inside if state.volume(n).mountpoint)
        stats, missing = hostfs.stat_paths(state, (plan.paths if plan else ()) + extra)
        update = {"path_stats": stats, "missing_paths": missing, "free_bytes": hostfs.free(state.info.root_dir),
                  "near_paths": hostfs.near_paths(missing + tuple(p for p, st in stats.items() if st.is_dir
                                                                  and st.empty and st.uid == 0)),
                  "listening": hostfs.listening(plan.ports if plan else ())}
        if plan and plan.ports:
            published = {p.public for c in state.containers for p in c.ports if p.public}
            update["free_port"] = hostfs.free_port(plan.ports[0], published)
    else:
        # The volume in question, looked into by one helper container: its
        # requests come on top of the reads, once per question.
        col.budget = max(col.budget, col.requests + 1 + HELPER_COST)
        update = {"path_stats": _helper_stats(col, state, ((plan.volumes if plan else ()) + inside)[:1])}
    return state.model_copy(update={**update, "requests": col.requests, "collected_at": collected_at})


def _unused(state: DaemonState) -> int:
    used = state.volume_users()
    return sum(1 for v in state.volumes if v.name not in used)


def _images(col: Collector, wanted: tuple[str, ...]) -> tuple[Image, ...]:
    """Every local image's tags (one request), and VOLUME paths of the ones in question."""
    raw = col._call(col.client.images) or []
    named = {t: i for i in raw for t in (i.get("RepoTags") or [])}
    inspected = {}
    for ref in wanted:
        i = named.get(ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest")
        if i is not None and i["Id"] not in inspected and col.left() >= 1:
            inspected[i["Id"]] = col._call(col.client.inspect_image, i["Id"])
    return translate.images(raw, inspected)


def _helper_stats(col: Collector, state: DaemonState, volumes: tuple[str, ...]) -> dict[str, PathStat]:
    """Owner, mode and free space of volumes the daemon keeps out of our sight
    (Docker Desktop's VM, a remote host), read from inside a throwaway container
    that mounts each volume read-only, with no network, from an image already here."""
    present = [v for v in (state.volume(n) for n in volumes) if v is not None]
    if not present:
        return {}
    if state.images is None and col.left() < 1 + HELPER_COST:
        return {}
    img = helper_image(state.images if state.images is not None else _images(col, ()))
    if img is None:
        return {}
    out = {}
    api = col.client
    for v in present:
        if col.left() < HELPER_COST:
            break  # the rest stay unknown: a question never costs more than MAX_REQUESTS
        script = "stat -c '%u %g %a %F' /v; ls -A /v | head -n 1 | wc -l; df -Pk /v | tail -n 1"
        hc = api.create_host_config(binds=[f"{v.name}:/v:ro"], network_mode="none")
        cid = None
        try:
            cid = probe_name()  # named before it exists, so a later check can tell it is ours
            col._call(api.create_container, img, [script], host_config=hc, labels=probe_labels(), name=cid,
                      entrypoint=["/bin/sh", "-c"], network_disabled=True)
            col._call(api.start, cid)
            col._call(api.wait, cid)
            text = col._call(api.logs, cid).decode("utf-8", "replace").split("\n")
            uid, gid, mode, *kind = text[0].split()
            free = int(text[2].split()[3]) * 1024 if len(text) > 2 and len(text[2].split()) > 3 else None
            out[v.mountpoint] = PathStat(uid=int(uid), gid=int(gid), mode=int(mode, 8), is_dir="directory" in kind,
                                         empty=text[1].strip() == "0", free_bytes=free)
        except (ValueError, IndexError):
            continue  # the helper image lacks stat or df: leave this volume unknown
        finally:
            if cid is not None:
                try:
                    col.deadline = max(col.deadline, time.monotonic() + 5)
                    col._call(api.remove_container, cid, force=True, v=True)  # v: the image may declare a VOLUME
                except Exception:  # noqa: BLE001 - the label lets a later check remove it
                    pass
    return out


def unreachable(err: DaemonError, ep: Optional[Endpoint] = None) -> DaemonState:
    return DaemonState(endpoint=ep or Endpoint(url=err.endpoint), reachable=False, error=err,
                       local_user=hostfs.local_user())


def is_not_found(exc: BaseException) -> bool:
    """The daemon said 404: no such object (for modules that must not import docker)."""
    import docker.errors

    return isinstance(exc, docker.errors.NotFound)


def _detail(col: Collector, cid: str, changes: bool = False) -> ContainerDetail:
    import docker.errors

    try:
        data = col._call(col.client.inspect_container, cid)
    except docker.errors.NotFound:  # removed between the list and now
        return ContainerDetail()
    name = str((data.get("Config") or {}).get("User") or "").split(":", 1)[0]
    passwd = None
    if name and not name.isdigit() and col.left() >= 1:
        passwd = translate.passwd_entry(_read_passwd(col, cid), name)
    diff = (col._call(col.client.diff, cid) or []) if changes and col.left() >= 1 else None
    return translate.detail(data, passwd, diff)


def _read_passwd(col: Collector, cid: str) -> Optional[str]:
    import docker.errors

    try:
        stream, _ = col._call(col.client.get_archive, cid, "/etc/passwd")
        buf = io.BytesIO()
        for chunk in stream:
            buf.write(chunk)
            if buf.tell() > PASSWD_LIMIT:
                return None
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            if member is None:
                return None
            fh = tar.extractfile(member)
            return fh.read(PASSWD_LIMIT).decode("utf-8", "replace") if fh else None
    except (docker.errors.NotFound, docker.errors.APIError, tarfile.TarError):
        return None  # no /etc/passwd in the image: the name stays unresolved
