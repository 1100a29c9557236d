"""What voldoctor reads on this machine's own filesystem and loopback: the
owner and mode of mount sources, free space, which ports something listens
on, who we are. Only meaningful when the daemon's files are local."""

from __future__ import annotations

import getpass
import os
import socket
import stat
from typing import Optional

from voldoctor.state import DaemonState, PathStat

def stat_paths(state: DaemonState, extra: tuple[str, ...] = ()) -> tuple[dict[str, PathStat], tuple[str, ...]]:
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


def near_paths(paths: tuple[str, ...], limit: int = 500) -> dict[str, str]:
    """For each path, a sibling whose name is a slip away (sites for site, app.cnf for app.conf): the
    folder or file most likely meant. Up to `limit` entries of each parent are looked at."""
    from rapidfuzz.distance import OSA

    out = {}
    for p in paths:
        parent, base = os.path.split(p.rstrip("/"))
        if not base or len(base) < 3:
            continue
        try:
            with os.scandir(parent or "/") as it:
                names = [e.name for _, e in zip(range(limit), it)]
        except OSError:
            continue
        most = 1 if len(base) <= 5 else 2
        near = sorted((OSA.distance(n.lower(), base.lower()), n) for n in names if n != base)
        if near and near[0][0] <= most:
            out[p] = os.path.join(parent, near[0][1])
    return out


def free(root: str) -> Optional[int]:
    import shutil

    try:
        return shutil.disk_usage(root).free if root else None
    except OSError:
        return None


def listening(ports: tuple[int, ...]) -> tuple[int, ...]:
    """The ports in question that something on this machine accepts
    connections on, over IPv4 or IPv6 loopback."""
    busy = []
    for port in ports[:4]:
        for host, fam in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
            try:
                with socket.socket(fam, socket.SOCK_STREAM) as s:
                    s.settimeout(0.3)
                    if s.connect_ex((host, int(port))) == 0:
                        busy.append(int(port))
                        break
            except (OSError, ValueError, OverflowError):
                continue
    return tuple(busy)


def free_port(near: int, taken: set[int]) -> Optional[int]:
    """A host port close above `near` (from 8080 when `near` is not a port)
    that no container publishes and that can be bound here right now."""
    start = near + 1 if 0 < near < 65535 else 8080
    for port in (*range(start, min(start + 50, 65536)), *range(8080, 8130)):
        if port in taken or port < 1024:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("0.0.0.0", port))
        except OSError:
            continue
        if port not in listening((port,)):
            return port
    return None


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry and no LOGNAME: fall back to the uid
        return str(os.getuid())
