"""Checks of the daemon itself: address, socket, reachable, version, driver."""

from __future__ import annotations

import os

from voldoctor.check.model import Context, Result, check


def _daemon_fix(ctx: Context) -> list[str]:
    """The fix lines of the daemon rules, so check and diagnose agree."""
    from voldoctor import engine, probes

    rs = ctx.rules
    st = ctx.state
    subs = probes.subjects(st, probes.Query(), {"daemon"})
    diags = engine.evaluate([r for r in rs.for_symptom("daemon-unreachable") if r.scope == "daemon"], subs)
    return list(diags[0].fix) if diags else []


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
