"""Pure helpers the fact producers share: the question, a subject, and small
reads of the frozen state (no I/O, no clock)."""

from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from voldoctor.commandline import ParsedCommand
from voldoctor.state import DaemonState, Image

NEAR_MISS_CUTOFF = 75  # rapidfuzz ratio for a name that looks like a slip of another
NEAR_MISS_EDITS = 2  # ... and at most this many letters added, dropped or changed


@dataclass(frozen=True)
class Query:
    """What the question is about: names and paths from the text and the flags."""

    volumes: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    images: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    command: Optional[ParsedCommand] = None
    named_container: bool = False  # the container came from --container or the text
    everything: bool = False  # a check-up: every container is looked at, none is "in question"
    ran: bool = False  # the pasted command is told as already run ("i ran docker run ..."), not as a plan


@dataclass(frozen=True)
class Subject:
    scope: str
    label: str
    facts: dict


_FILE_NAME = re.compile(r"[^/.][^/]*\.[A-Za-z][A-Za-z0-9]{1,7}")  # upload.txt, db.sqlite3, app.conf; not conf.d


def data_folder(path: str) -> str:
    """The folder that holds a path named in a question: a file's folder (a volume
    mounted at a file's path would turn it into an empty folder), else the path."""
    path = path.rstrip("/") or "/"  # '/srv/media/' is the folder /srv/media
    head, _, last = path.rpartition("/")
    return head if head and _FILE_NAME.fullmatch(last) else path  # never / itself: nothing can be mounted there


def covers(dest: str, path: str) -> bool:
    dest = dest.rstrip("/") or "/"
    return path == dest or path.startswith(dest + "/") or dest == "/"


def near_misses(name: str, existing: list[str]) -> list[str]:
    """Existing names that look like a slip of the given one."""
    if not name:
        return []

    def norm(s: str, **_: Any) -> str:
        return s.lower().replace("_", "-").replace(".", "-")

    hits = process.extract(name, existing, scorer=fuzz.ratio, processor=norm,
                           score_cutoff=NEAR_MISS_CUTOFF, limit=5)
    # a slip is a letter or two: lt-userdata and lt-sitedata look alike but are two apps' volumes
    close = [(Levenshtein.distance(name, h[0]), -h[1], h[0]) for h in hits
             if h[0] != name and Levenshtein.distance(norm(name), norm(h[0])) <= NEAR_MISS_EDITS]
    return [n for _, _, n in sorted(close)]


def resolve_user(user: str, passwd: Optional[str]) -> tuple[Optional[int], Optional[int]]:
    """uid and gid for a container's configured user ('' means root)."""
    if not user:
        return 0, 0
    name, _, group = user.partition(":")
    uid = gid = None
    if name.isdigit():
        uid = int(name)
    elif name == "root":
        uid, gid = 0, 0
    elif passwd:
        for line in passwd.splitlines():
            f = line.split(":")
            if len(f) >= 4 and f[0] == name and f[2].isdigit() and f[3].isdigit():
                uid, gid = int(f[2]), int(f[3])
                break
    if group.isdigit():
        gid = int(group)
    elif uid is not None and gid is None and not group:
        gid = uid if uid == 0 else None
    return uid, gid


def can_write(uid: Optional[int], gid: Optional[int], owner: int, group: int, mode: int) -> Optional[bool]:
    """Whether uid/gid may write a folder of that owner and mode; None when
    it hangs on a group id that is not known."""
    if uid is None:
        return None
    if uid == 0:
        return True
    if uid == owner:
        return bool(mode & 0o200)
    if mode & 0o002:
        return True
    if not mode & 0o020:
        return False
    return None if gid is None else gid == group


def mount_arg(m) -> list[str]:
    """One mount of a running container, written as docker run options."""
    ro = "" if m.rw else ":ro"
    if m.type == "volume":
        return ["-v", m.destination + ro] if m.anonymous else ["-v", f"{m.name}:{m.destination}{ro}"]
    if m.type == "bind":
        return ["-v", f"{m.source}:{m.destination}{ro}"]
    return ["--tmpfs", m.destination] if m.type == "tmpfs" else []


def run_argv(c, mounts: Optional[list] = None) -> Optional[list[str]]:
    """The `docker run` that starts this container again from its real
    configuration (name, user, restart policy, hostname, working directory, read-only root, tmpfs,
    network, ports, env names, mounts, entrypoint,
    command); `mounts` replaces its mounts, as lists of options. None when
    the configuration was not read."""
    d = c.detail
    if d is None:
        return None
    # A shell started with -it comes back as one; anything else runs detached,
    # so that the line pasted after `docker stop && docker rm` does not hold the terminal.
    mode = ("-" + "i" * d.interactive + "t" * d.tty) if (d.tty or d.interactive) else ""
    argv = ["docker", "run"] + (["-d"] if not (mode and d.foreground) else []) + ([mode] if mode else [])
    argv += ["--name", c.name]
    if d.auto_remove:
        argv.append("--rm")
    if d.user:
        argv += ["--user", d.user]
    if d.restart:
        argv += ["--restart", d.restart]
    if d.hostname:
        argv += ["--hostname", d.hostname]
    if d.workdir:
        argv += ["-w", d.workdir]
    if d.read_only:
        argv.append("--read-only")
    for t in d.tmpfs:
        argv += ["--tmpfs", t]
    if d.network and d.network not in ("default", "bridge"):
        argv += ["--network", d.network]
    for p in d.publish:
        argv += ["-p", p]
    for e in d.env_names:
        argv += ["-e", e]
    for m in (mounts if mounts is not None else [mount_arg(m) for m in c.mounts]):
        argv += m
    if d.entrypoint:
        argv += ["--entrypoint", d.entrypoint[0]]
    return argv + [c.image, *d.entrypoint[1:], *d.cmd]


def api_at_least(state: DaemonState, want: tuple[int, int], unknown: bool = True) -> bool:
    """The engine speaks this API version or a later one; `unknown` when it did not say."""
    try:
        major, minor = (int(x) for x in state.info.api_version.split(".")[:2])
    except ValueError:
        return unknown
    return (major, minor) >= want


def _size(n: Optional[int], zero: str = "empty") -> str:
    """A size in words: `zero` for 0 bytes, "size unknown" when the daemon did not say."""
    if n is None or n < 0:
        return "size unknown"
    if n == 0:
        return zero
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _normal_image(ref: str) -> str:
    ref = ref.removeprefix("docker.io/").removeprefix("library/")
    return ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else ref + ":latest"


def image_of(state: DaemonState, ref: str) -> Optional[Image]:
    want = _normal_image(ref)
    for i in state.images or ():
        if want in {_normal_image(t) for t in i.tags} or i.id.startswith(ref) or i.id.removeprefix("sha256:").startswith(ref):
            return i
    return None


def holds_data(state: DaemonState, name: str) -> Optional[bool]:
    """Whether a volume holds anything (None when neither its size nor its folder was seen)."""
    size = (state.volume_sizes or {}).get(name)
    if size is not None and size >= 0:
        return size > 0
    vol = state.volume(name)
    st = state.path_stats.get(vol.mountpoint) if vol else None
    return None if st is None or st.empty is None else not st.empty


def volume_about(state: DaemonState, name: str, users: bool = False) -> str:
    """Size and age of a volume in a few words, and who uses it."""
    vol = state.volume(name)
    size = (state.volume_sizes or {}).get(name)
    parts = [_size(size) if size is not None else "size unknown"]
    made = age(vol.created_at, state.collected_at) if vol is not None and vol.created_at else "age unknown"
    if made.endswith(" old"):
        parts.append("made " + made.removesuffix(" old") + " ago")
    elif made == "just made":
        parts.append("made just now")
    if users:
        who = [c for c in state.containers if any(m.type == "volume" and m.name == name for m in c.mounts)]
        parts.append(("used by " + ", ".join(f"{c.name} ({c.state})" for c in who)) if who else "no container uses it now")
    return ", ".join(parts)


def age(created_at: str, now: Optional[float]) -> str:
    """How old something made at `created_at` was when the state was read."""
    if now is None:
        return "age unknown"
    try:
        secs = now - datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "age unknown"
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= n:
            k = int(secs // n)
            return f"{k} {unit}{'s' if k != 1 else ''} old"
    return "just made"
