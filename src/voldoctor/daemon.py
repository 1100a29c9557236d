"""The one door to the daemon: the only module that imports `docker`.

It finds the endpoint the way the docker CLI does, reads the state in a
constant number of requests, and turns every failure into a DaemonError that
names the endpoint it tried.
"""

from __future__ import annotations

import errno
import getpass
import hashlib
import io
import json
import os
import re
import socket
import ssl
import stat
import tarfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional
from urllib.parse import urlparse

from voldoctor.daemon_facts import PROBE_LABEL, helper_image, probe_name, provably_ours
from voldoctor.deadline import hard_deadline
from voldoctor.state import (
    Container,
    ContainerDetail,
    DaemonError,
    DaemonInfo,
    DaemonState,
    Endpoint,
    Image,
    Mount,
    PathStat,
    Port,
    Volume,
)

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
MIN_API = "1.24"
MAX_INSPECT = 5  # containers inspected per question, whatever the daemon holds
PASSWD_LIMIT = 256 * 1024
MAX_BODY = 64 * 1024 * 1024  # bytes: no honest answer to our requests comes near this
GRACE = 0.5  # seconds past --timeout before the hard deadline interrupts a read


class NotDockerError(Exception):
    """Something answered, but not as the Docker API does."""


class ResponseTooLarge(Exception):
    """The daemon's answer grew past MAX_BODY."""


class EndpointError(Exception):
    """The endpoint could not even be worked out (bad DOCKER_HOST, missing context)."""

    def __init__(self, endpoint: str, detail: str, kind: str = "bad-endpoint"):
        self.error = DaemonError(kind=kind, endpoint=endpoint, detail=detail)
        super().__init__(detail)


# ------------------------------------------------------------ endpoint


def _config_dir(env) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or os.path.expanduser("~")) / ".docker")


def _check_url(url: str, origin: str) -> str:
    if url.startswith("/"):
        url = "unix://" + url
    try:
        u = urlparse(url)
    except ValueError as e:  # 'tcp://[::1' and the like
        raise EndpointError(url, f"{origin} {url!r} is not a valid address: {e}") from None
    if u.scheme not in ("unix", "tcp", "http", "https", "ssh", "npipe", "fd"):
        raise EndpointError(url, f"{origin} {url!r} is not a daemon address (use unix:///path, tcp://host:port or ssh://user@host)")
    if u.scheme == "unix" and not u.path:
        raise EndpointError(url, f"{origin} {url!r} names no socket path")
    if u.scheme in ("tcp", "http", "https", "ssh"):
        try:
            _ = u.port
        except ValueError:
            raise EndpointError(url, f"{origin} {url!r} has an invalid port") from None
        if not u.hostname:
            raise EndpointError(url, f"{origin} {url!r} names no host")
    return url


def _context_endpoint(name: str, env, origin: str) -> Endpoint:
    cfg = _config_dir(env)
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / digest / "meta.json"
    if not meta.is_file():
        raise EndpointError(f"context {name}", f"docker context {name!r} ({origin}) does not exist: no {meta}")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        ep = data["Endpoints"]["docker"]
        host = ep["Host"]
        skip_verify = bool(ep.get("SkipTLSVerify", False))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise EndpointError(f"context {name}", f"docker context {name!r} has unreadable metadata {meta}: {e}") from None
    if not isinstance(host, str):
        raise EndpointError(f"context {name}", f"docker context {name!r}: Endpoints.docker.Host is not a string in {meta}")
    url = _check_url(host, f"context {name!r} host")
    tls_dir = cfg / "contexts" / "tls" / digest / "docker"
    has_tls = tls_dir.is_dir()
    return Endpoint(url=url, context=name, origin=origin,
                    tls_verify=has_tls and not skip_verify, cert_dir=str(tls_dir) if has_tls else None)


def resolve_endpoint(host: Optional[str] = None, env=None) -> Endpoint:
    """--host, then DOCKER_HOST, then DOCKER_CONTEXT, then the CLI's current context."""
    env = os.environ if env is None else env
    if host:
        ep = Endpoint(url=_check_url(host, "--host"), origin="--host")
    elif env.get("DOCKER_HOST"):
        tls = env.get("DOCKER_TLS_VERIFY", "") not in ("", "0")
        ep = Endpoint(url=_check_url(env["DOCKER_HOST"], "DOCKER_HOST"), origin="DOCKER_HOST",
                      tls_verify=tls, cert_dir=env.get("DOCKER_CERT_PATH") or None)
    else:
        name, origin = env.get("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
        if not name:
            name, origin = _current_context(env), "config"
        if name and name != "default":
            ep = _context_endpoint(name, env, origin)
        else:
            ep = Endpoint(url=DEFAULT_SOCKET)
    return _with_socket(ep)


def _current_context(env) -> Optional[str]:
    path = _config_dir(env) / "config.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None  # no docker CLI config (or no usable home): the default context
    except UnicodeDecodeError:
        raise EndpointError(str(path), f"the docker CLI config {path} is not valid JSON (it is not even UTF-8 text)",
                            "config-corrupt") from None
    except OSError as e:
        raise EndpointError(str(path), f"cannot read the docker CLI config {path}: {e.strerror or e}") from None
    if not text.strip():
        return None  # an empty file: the docker CLI treats it as no settings
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise EndpointError(str(path), f"the docker CLI config {path} is not valid JSON "
                            f"(line {e.lineno} column {e.colno}: {e.msg})", "config-corrupt") from None
    if not isinstance(data, dict):
        raise EndpointError(str(path), f"the docker CLI config {path} is not valid: it holds a JSON "
                            f"{type(data).__name__}, not an object", "config-corrupt")
    name = data.get("currentContext")
    return name if isinstance(name, str) and name else None


def _with_socket(ep: Endpoint) -> Endpoint:
    u = urlparse(ep.url)
    if u.scheme != "unix":
        return ep
    group = None
    try:
        import grp

        gid = os.stat(u.path).st_gid
        try:
            group = grp.getgrgid(gid).gr_name
        except KeyError:
            group = str(gid)
    except OSError:
        pass
    return ep.model_copy(update={"socket_path": u.path, "socket_group": group})


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
        if isinstance(e, (ssl.SSLError, requests.exceptions.SSLError, docker.errors.TLSParameterError)):
            return err("tls", f"TLS failed: {_short(e)}")
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
            return err("ssh", f"SSH failed: {_short(e)}")
    if isinstance(exc, docker.errors.APIError):
        code = getattr(exc.response, "status_code", None)
        return err("refused", f"the daemon refused the request (HTTP {code}): {exc.explanation or _short(exc)}")
    for e in chain:
        if isinstance(e, (NotDockerError, json.JSONDecodeError, requests.exceptions.InvalidJSONError)):
            return err("not-docker", f"something answered, but not with the Docker API ({_short(e)})")
        name = type(e).__name__
        if name in ("RemoteDisconnected", "BadStatusLine", "ProtocolError", "LineTooLong",
                    "ChunkedEncodingError", "InvalidChunkLength"):
            return err("not-docker", f"something answered, but not with the Docker API ({name})")
        if isinstance(e, ConnectionResetError):
            return err("not-docker", "the connection was closed at once: not a Docker API")
    if isinstance(exc, docker.errors.DockerException) and "ssh" in str(exc).lower():
        return err("ssh", _short(exc))
    return err("other", _short(exc))


def _path(url: str) -> str:
    return urlparse(url).path or url


def _short(e: BaseException) -> str:
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
            d = Path(self.ep.cert_dir or _config_dir(os.environ))
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

    def _count(self, resp, *args, **kwargs):
        self.requests += 1
        return resp

    def _call(self, fn, *args, **kwargs):
        self.client.timeout = self._remaining()
        return fn(*args, **kwargs)

    def close(self):
        if self.client is not None:
            self.client.close()


def collect(
    ep: Endpoint,
    timeout: float = 10.0,
    pick: Optional[Callable[[DaemonState], list[str]]] = None,
    max_inspect: int = MAX_INSPECT,
) -> DaemonState:
    """Read the daemon's state. Never raises for daemon trouble: an unreachable
    daemon comes back as a state with reachable=False and the error.

    `pick` chooses the containers to look at closely; it may also carry what
    the question needs beyond the lists (attributes want, paths, ports,
    images, volumes: see engine.Ask). Every extra read is bounded by the
    question, never by the number of objects on the daemon."""
    col = Collector(ep, timeout)
    user = _local_user()
    try:
        with hard_deadline(timeout + GRACE):
            return _read_state(col, ep, pick, max_inspect, user)
    except Exception as e:  # every transport or SDK failure becomes a value
        return DaemonState(endpoint=ep, reachable=False, error=classify(e, ep, timeout),
                           local_user=user, requests=col.requests)
    finally:
        col.close()


def _read_state(col: Collector, ep: Endpoint, pick, max_inspect: int, user: str) -> DaemonState:
    want = frozenset(getattr(pick, "want", ()))
    collected_at = time.time()
    ver = col.connect()
    info = col._call(col.client.info)
    vols = col._call(col.client.volumes) or {}
    raw_containers = col._call(col.client.containers, all=True)
    volumes = tuple(_volume(v) for v in (vols.get("Volumes") or []))
    anon = {v.name for v in volumes if "com.docker.volume.anonymous" in v.labels}
    state = DaemonState(
        endpoint=ep,
        reachable=True,
        info=_info(ver, info),
        volumes=volumes,
        containers=tuple(_container(c, anon) for c in raw_containers),
        local_user=user,
    )
    update: dict = {}
    if pick is not None:
        wanted = pick(state)[:max_inspect]
        details = {cid: _detail(col, cid, "changes" in want) for cid in wanted}
        update["containers"] = tuple(
            c.model_copy(update={"detail": details[c.id]}) if c.id in details else c for c in state.containers
        )
    if "images" in want:
        update["images"] = _images(col, tuple(getattr(pick, "images", ()))[:3])
    if "df" in want:
        df = col._call(col.client.df) or {}
        update["volume_sizes"] = {v["Name"]: int(_size_of(v)) for v in (df.get("Volumes") or [])}
    state = state.model_copy(update=update)
    if state.local:
        stats, missing = _stat_paths(state, tuple(getattr(pick, "paths", ())))
        update = {"path_stats": stats, "missing_paths": missing, "free_bytes": _free(state.info.root_dir),
                  "listening": _listening(tuple(getattr(pick, "ports", ())))}
    else:
        update = {"path_stats": _helper_stats(col, state, tuple(getattr(pick, "volumes", ()))[:3])}
    return state.model_copy(update={**update, "requests": col.requests, "collected_at": collected_at})


def _size_of(v: dict) -> int:
    """A volume's size from /system/df: 0 is a real size (an empty volume); -1 or nothing is unknown."""
    size = (v.get("UsageData") or {}).get("Size")
    return -1 if size is None else size


def _images(col: Collector, wanted: tuple[str, ...]) -> tuple[Image, ...]:
    """Every local image's tags (one request), and VOLUME paths of the ones in question."""
    out = []
    raw = col._call(col.client.images) or []
    named = {t: i for i in raw for t in (i.get("RepoTags") or [])}
    for ref in wanted:
        key = ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest"
        i = named.get(key)
        if i is not None:
            data = col._call(col.client.inspect_image, i["Id"])
            named[key] = {**i, "_volumes": tuple(sorted(((data.get("Config") or {}).get("Volumes") or {}).keys()))}
    seen = set()
    for i in named.values():
        if i["Id"] in seen:
            continue
        seen.add(i["Id"])
        tags = tuple(t for t in (i.get("RepoTags") or []) if t != "<none>:<none>")
        vols = next((x.get("_volumes", ()) for x in named.values() if x["Id"] == i["Id"] and "_volumes" in x), ())
        out.append(Image(id=i["Id"], tags=tags, volumes=vols))
    return tuple(out)


def _helper_stats(col: Collector, state: DaemonState, volumes: tuple[str, ...]) -> dict[str, PathStat]:
    """Owner, mode and free space of volumes the daemon keeps out of our sight
    (Docker Desktop's VM, a remote host), read from inside a throwaway container
    that mounts each volume read-only, with no network, from an image already here."""
    present = [v for v in (state.volume(n) for n in volumes) if v is not None]
    if not present:
        return {}
    img = helper_image(state.images if state.images is not None else _images(col, ()))
    if img is None:
        return {}
    out = {}
    api = col.client
    for v in present:
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


def _free(root: str) -> Optional[int]:
    import shutil

    try:
        return shutil.disk_usage(root).free if root else None
    except OSError:
        return None


def _listening(ports: tuple[int, ...]) -> tuple[int, ...]:
    busy = []
    for port in ports[:4]:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(0.3)
                if s.connect_ex(("127.0.0.1", int(port))) == 0:
                    busy.append(int(port))
        except (OSError, ValueError, OverflowError):
            continue
    return tuple(busy)


def unreachable(err: DaemonError, ep: Optional[Endpoint] = None) -> DaemonState:
    return DaemonState(endpoint=ep or Endpoint(url=err.endpoint), reachable=False, error=err,
                       local_user=_local_user())


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry and no LOGNAME: fall back to the uid
        return str(os.getuid())


def _info(ver: dict, info: dict) -> DaemonInfo:
    sec = " ".join(info.get("SecurityOptions") or [])
    os_name = str(info.get("OperatingSystem") or "")
    return DaemonInfo(
        server_version=str(ver.get("Version") or info.get("ServerVersion") or ""),
        api_version=str(ver.get("ApiVersion") or ""),
        os=os_name,
        kernel=str(info.get("KernelVersion") or ""),
        root_dir=str(info.get("DockerRootDir") or ""),
        storage_driver=str(info.get("Driver") or ""),
        rootless="rootless" in sec,
        desktop="Docker Desktop" in os_name or str(info.get("Name") or "") == "docker-desktop",
        name=str(info.get("Name") or ""),
        volume_drivers=tuple((info.get("Plugins") or {}).get("Volume") or ()),
    )


def _volume(v: dict) -> Volume:
    return Volume(
        name=v.get("Name", ""),
        driver=v.get("Driver") or "local",
        mountpoint=v.get("Mountpoint") or "",
        created_at=v.get("CreatedAt") or "",
        labels={str(k): str(x) for k, x in (v.get("Labels") or {}).items()},
        scope=v.get("Scope") or "local",
    )


def _container(c: dict, anon: frozenset | set = frozenset()) -> Container:
    names = c.get("Names") or []
    return Container(
        id=c["Id"],
        name=(names[0] if names else c["Id"][:12]).lstrip("/"),
        image=c.get("Image") or "",
        image_id=c.get("ImageID") or "",
        state=c.get("State") or "",
        status=c.get("Status") or "",
        created=int(c.get("Created") or 0),
        labels={str(k): str(x) for k, x in (c.get("Labels") or {}).items()},
        mounts=tuple(
            Mount(
                type=m.get("Type") or "volume",
                name=m.get("Name") or "",
                source=m.get("Source") or "",
                destination=m.get("Destination") or "",
                rw=bool(m.get("RW", True)),
                driver=m.get("Driver") or "",
                anon_label=(m.get("Name") or "") in anon,
            )
            for m in (c.get("Mounts") or [])
        ),
        ports=tuple(
            Port(private=int(p.get("PrivatePort") or 0), public=p.get("PublicPort"), ip=p.get("IP") or "",
                 proto=p.get("Type") or "tcp")
            for p in (c.get("Ports") or [])
        ),
    )


INIT_ENV = re.compile(r"^(POSTGRES_(PASSWORD|USER|DB)|MYSQL_(ROOT_PASSWORD|PASSWORD|USER|DATABASE)|"
                      r"MARIADB_(ROOT_PASSWORD|PASSWORD|USER|DATABASE)|MONGO_INITDB_\w+|WORDPRESS_DB_\w+)$")
IGNORED_CHANGES = ("/tmp", "/run", "/var/run", "/dev", "/proc", "/sys", "/root/.ash_history", "/root/.bash_history",
                   "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab")
MAX_CHANGES = 200


def _detail(col: Collector, cid: str, changes: bool = False) -> ContainerDetail:
    import docker.errors

    try:
        data = col._call(col.client.inspect_container, cid)
    except docker.errors.NotFound:  # removed between the list and now
        return ContainerDetail()
    cfg = data.get("Config") or {}
    user = str(cfg.get("User") or "")
    passwd = None
    name = user.split(":", 1)[0]
    if name and not name.isdigit():
        text = _read_passwd(col, cid)
        # Keep only the entry in question: a snapshot carries no more of the image than it needs.
        passwd = next((ln for ln in (text or "").splitlines() if ln.split(":", 1)[0] == name), None)
    env_names = tuple(sorted({e.split("=", 1)[0] for e in (cfg.get("Env") or []) if INIT_ENV.match(e.split("=", 1)[0])}))
    diff = None
    if changes:
        raw = col._call(col.client.diff, cid) or []
        diff = tuple(sorted(
            d["Path"] for d in raw
            if d.get("Kind") in (0, 1) and not any(d["Path"] == p or d["Path"].startswith(p + "/") for p in IGNORED_CHANGES)
        )[:MAX_CHANGES])
    return ContainerDetail(
        user=user, image_volumes=tuple(sorted((cfg.get("Volumes") or {}).keys())), passwd=passwd,
        workdir=str(cfg.get("WorkingDir") or ""), auto_remove=bool((data.get("HostConfig") or {}).get("AutoRemove")),
        init_env=env_names, changes=diff,
    )


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


def _stat_paths(state: DaemonState, extra: tuple[str, ...] = ()) -> tuple[dict[str, PathStat], tuple[str, ...]]:
    """Owner and mode of every mount source; age and emptiness (a look inside
    the folder) only for the containers looked at closely and the host paths
    in question, so the cost follows the question, not the number of volumes;
    and which of those host paths do not exist. Local daemons only."""
    paths = {v.mountpoint for v in state.volumes if v.mountpoint}
    paths |= {m.source for c in state.containers for m in c.mounts if m.source}
    extra = tuple(p for p in extra if p.startswith("/"))
    paths |= set(extra)
    binds = {m.source for c in state.containers for m in c.mounts if m.type == "bind"}
    deep = set(extra) | {m.source for c in state.containers if c.detail is not None for m in c.mounts if m.source}
    out = {}
    missing = []
    for p in sorted(paths):
        try:
            st = os.stat(p)
        except OSError:
            if p in extra or p in binds:
                missing.append(p)
            continue
        empty = oldest = None
        if p in deep and stat.S_ISDIR(st.st_mode):
            try:
                with os.scandir(p) as it:
                    times = [e.stat(follow_symlinks=False).st_mtime for _, e in zip(range(200), it)]
                empty = not times
                oldest = min(times) if times else None
            except OSError:
                pass
        out[p] = PathStat(uid=st.st_uid, gid=st.st_gid, mode=stat.S_IMODE(st.st_mode), is_dir=stat.S_ISDIR(st.st_mode),
                          mtime=st.st_mtime, empty=empty, oldest=oldest)
    return out, tuple(missing)


# ------------------------------------------------------------ probes (writes)

def probe_labels() -> dict[str, str]:
    """Labels on every object voldoctor makes: the marker, and who made it, so
    a later run can tell the leftovers of a dead run from a live one's."""
    return {PROBE_LABEL: "1", PROBE_LABEL + ".pid": str(os.getpid()), PROBE_LABEL + ".host": socket.gethostname()}


def _owner_gone(labels: dict) -> bool:
    """The run that made this object is known to be dead (same machine, no such process)."""
    if labels.get(PROBE_LABEL + ".host") != socket.gethostname():
        return False
    try:
        pid = int(labels.get(PROBE_LABEL + ".pid", ""))
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Prober:
    """The few writes voldoctor ever makes: its own scratch volumes and
    containers, each labelled io.voldoctor.probe=1 and removed by the caller's
    `finally`. Errors surface as DaemonError values inside ProbeError."""

    def __init__(self, ep: Endpoint, timeout: float):
        self.ep = ep
        self.timeout = timeout
        self.col = Collector(ep, timeout)
        try:
            with hard_deadline(timeout + GRACE):
                self.col.connect()
        except Exception as e:
            self.col.close()
            raise ProbeError(classify(e, ep, timeout), e) from None
        self.api = self.col.client
        self.made_volumes: list[str] = []
        self.made_containers: list[str] = []

    def _fresh(self, seconds: Optional[float] = None):
        self.col.deadline = time.monotonic() + (seconds or self.timeout)

    def call(self, fn, *args, seconds: Optional[float] = None, **kwargs):
        self._fresh(seconds)
        try:
            with hard_deadline((seconds or self.timeout) + GRACE):
                return self.col._call(fn, *args, **kwargs)
        except Exception as e:
            raise ProbeError(classify(e, self.ep, seconds or self.timeout), e) from None

    def image_present(self, ref: str) -> bool:
        import docker.errors

        try:
            self.call(self.api.inspect_image, ref)
            return True
        except ProbeError as e:
            if isinstance(e.cause, docker.errors.NotFound):
                return False
            raise

    def pull(self, ref: str, seconds: float = 600) -> None:
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        self.call(self.api.pull, repo, tag=tag or "latest", seconds=seconds)

    def create_volume(self, name: str) -> str:
        self.made_volumes.append(name)
        self.call(self.api.create_volume, name, labels=probe_labels())
        return name

    def inspect_volume(self, name: str) -> dict:
        return self.call(self.api.inspect_volume, name)

    def run(self, image: str, script: str, *, binds: list[str], user: Optional[str] = None,
            seconds: float = 30) -> tuple[int, str]:
        """Run a shell script in a labelled container to its end; returns exit
        code and output, and removes the container."""
        hc = self.api.create_host_config(binds=binds, network_mode="none")
        # Named before it exists: an interrupt during the create still leaves a name to remove.
        cid = probe_name()
        self.made_containers.append(cid)
        self.call(self.api.create_container, image, [script], user=user, host_config=hc, name=cid,
                  labels=probe_labels(), entrypoint=["/bin/sh", "-c"], network_disabled=True)
        try:
            self.call(self.api.start, cid)
            code = self.call(self.api.wait, cid, seconds=seconds)["StatusCode"]
            logs = self.call(self.api.logs, cid).decode("utf-8", "replace")
            return int(code), logs
        finally:
            self.remove_container(cid)

    def remove_container(self, cid: str, *, force: bool = True) -> None:
        """Remove a container with its anonymous volumes. `force` (stop it
        first) only for what this run made itself."""
        import docker.errors

        try:
            self.call(self.api.remove_container, cid, force=force, v=True)
        except ProbeError as e:
            if not isinstance(e.cause, docker.errors.NotFound):
                raise
        if cid in self.made_containers:
            self.made_containers.remove(cid)

    def remove_volume(self, name: str) -> None:
        import docker.errors

        try:
            self.call(self.api.remove_volume, name)
        except ProbeError as e:
            if not isinstance(e.cause, docker.errors.NotFound):
                raise
        if name in self.made_volumes:
            self.made_volumes.remove(name)

    def cleanup(self, interrupted: bool = False) -> list[str]:
        """Remove everything this prober made; returns what could not be removed.
        An interrupted request may have left the old connection half-read, so
        the removals go through a fresh one."""
        left = []
        if self.made_containers or self.made_volumes:
            self.col.close()
            self.col = Collector(self.ep, self.timeout)
            try:
                self.col.connect()
            except Exception as e:  # noqa: BLE001 - the daemon went away; the label lets a later run clean up
                return [f"{n} ({_short(e)})" for n in [*self.made_containers, *self.made_volumes]]
            self.api = self.col.client
        # An interrupted create or start may still be finishing inside the daemon
        # ("removal already in progress", "volume is in use"): try a few rounds.
        for attempt in range(4):
            left = []
            for cid in list(self.made_containers):
                try:
                    self.remove_container(cid)
                except Exception as e:  # keep going: every object gets its chance
                    left.append(f"container {cid[:12]} ({_short(e)})")
            for v in list(self.made_volumes):
                try:
                    self.remove_volume(v)
                except Exception as e:
                    left.append(f"volume {v} ({_short(e)})")
            if not left:
                break
            time.sleep(0.25 * (attempt + 1))
        if not (interrupted or left):
            return left
        # A create that was interrupted may still finish inside the daemon after
        # we tried to remove it: sweep whatever carries this run's pid.
        time.sleep(0.2)
        for _ in range(3):
            try:
                left = self._sweep_own()
            except Exception as e:  # noqa: BLE001 - reported; the label lets a later run clean up
                left = [f"objects of this run ({_short(e)})"]
            if not left:
                break
            time.sleep(0.3)
        return left

    def _sweep_own(self) -> list[str]:
        """Remove what this run made that a list still shows (a create that
        finished after an interrupt); return what is still there."""
        flt = {"label": f"{PROBE_LABEL}.pid={os.getpid()}"}
        left = []
        for c in self.call(self.api.containers, all=True, filters=flt):
            name = (c.get("Names") or ["?"])[0].lstrip("/")
            if not provably_ours(name, c.get("Labels") or {}):
                continue
            try:
                self.remove_container(c["Id"])
            except ProbeError as e:
                left.append(f"container {name} ({_short(e)})")
        for v in (self.call(self.api.volumes, filters=flt) or {}).get("Volumes") or []:
            if not provably_ours(v["Name"], v.get("Labels") or {}):
                continue
            try:
                self.remove_volume(v["Name"])
            except ProbeError as e:
                left.append(f"volume {v['Name']} ({_short(e)})")
        return left

    def stale(self, older_than: float) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """Objects labelled as voldoctor's that no live run of ours owns.
        Returns (removable, doubtful), each a list of (kind, name, why).
        Removable: provably ours (name shape and labels), made by a run known
        to be dead or longer ago than `older_than`, and, for a container, not
        running. Everything else carrying the label is doubtful: reported,
        never removed."""
        removable, doubtful = [], []
        now = time.time()
        flt = {"label": f"{PROBE_LABEL}=1"}
        for c in self.call(self.api.containers, all=True, filters=flt):
            name = (c.get("Names") or [c["Id"][:12]])[0].lstrip("/")
            labels = c.get("Labels") or {}
            old = _owner_gone(labels) or now - int(c.get("Created") or 0) >= older_than
            if not provably_ours(name, labels):
                doubtful.append(("container", name, "carries voldoctor's label but not a name voldoctor gives"))
            elif (c.get("State") or "") in ("running", "restarting", "paused"):
                if old:
                    doubtful.append(("container", name, f"is {c.get('State')}; voldoctor never stops what it "
                                     "did not start in this run"))
            elif old:
                removable.append(("container", name, "left by an earlier run"))
        for v in (self.call(self.api.volumes, filters=flt) or {}).get("Volumes") or []:
            labels = v.get("Labels") or {}
            created = _parse_time(v.get("CreatedAt") or "")
            old = _owner_gone(labels) or created is None or now - created >= older_than
            if not provably_ours(v["Name"], labels):
                doubtful.append(("volume", v["Name"], "carries voldoctor's label but not a name voldoctor gives"))
            elif old:
                removable.append(("volume", v["Name"], "left by an earlier run"))
        return removable, doubtful

    def remove_stale(self, older_than: float) -> tuple[list[str], list[str]]:
        """Remove the leftovers of earlier, interrupted runs that are provably
        ours; returns (removed, kept-with-reason). A container is removed
        without force, so a running one is never stopped; a volume still in
        use stays."""
        removable, doubtful = self.stale(older_than)
        removed, kept = [], [f"{k} {n} ({why})" for k, n, why in doubtful]
        for kind, name, _ in removable:
            try:
                if kind == "container":
                    self.remove_container(name, force=False)
                else:
                    self.remove_volume(name)
                removed.append(f"{kind} {name}")
            except ProbeError as e:
                kept.append(f"{kind} {name} ({_short(e)})")
        return removed, kept

    def close(self):
        self.col.close()


class ProbeError(Exception):
    def __init__(self, error: DaemonError, cause: BaseException):
        self.error = error
        self.cause = cause
        super().__init__(error.detail)


def _parse_time(text: str) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
