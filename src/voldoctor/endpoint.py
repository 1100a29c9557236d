"""Where the daemon is: the docker CLI's rules, without asking the daemon.

--host, then DOCKER_HOST, then DOCKER_CONTEXT, then the CLI's current context
in ~/.docker/config.json (context metadata under ~/.docker/contexts/meta/),
then the default socket. No docker import here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

from voldoctor.state import DaemonError, Endpoint

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class EndpointError(Exception):
    """The endpoint could not even be worked out (bad DOCKER_HOST, missing context)."""

    def __init__(self, endpoint: str, detail: str, kind: str = "bad-endpoint"):
        self.error = DaemonError(kind=kind, endpoint=endpoint, detail=detail)
        super().__init__(detail)


def config_dir(env) -> Path:
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
    cfg = config_dir(env)
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
    path = config_dir(env) / "config.json"
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
