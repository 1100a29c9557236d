"""Derived facts: from a DaemonState and a question to the subjects rules run over.

Pure: no I/O. Everything here reads the frozen state, so a snapshot and the
live daemon give the same subjects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from rapidfuzz import fuzz, process

from voldoctor.state import Container, DaemonState, Mount

NEAR_MISS_CUTOFF = 75


@dataclass(frozen=True)
class Query:
    """What the question is about: names and paths from the text and the flags."""

    volumes: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    named_container: bool = False  # the container came from --container or the text
    everything: bool = False  # a check-up: every container is looked at, none is "in question"


@dataclass(frozen=True)
class Subject:
    scope: str
    label: str
    facts: dict


# ------------------------------------------------------------ helpers


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
    return [h[0] for h in hits if h[0] != name]


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


# ------------------------------------------------------------ focus


def related(c: Container, q: Query) -> bool:
    for m in c.mounts:
        if m.type == "volume" and m.name in q.volumes:
            return True
        for p in q.paths:
            if covers(m.destination, p) or fuzz.ratio(m.destination, p) >= 80:
                return True
    vols = c.detail.image_volumes if c.detail else ()
    return any(covers(v, p) for v in vols for p in q.paths)


def focus(state: DaemonState, q: Query) -> tuple[list[Container], bool]:
    """The containers in question, most relevant first, and whether they were
    chosen as a fallback (nothing in the question pointed at any)."""
    if q.containers:
        found = [c for c in (state.container(r) for r in q.containers) if c is not None]
        return found, False
    newest = sorted(state.containers, key=lambda c: -c.created)
    if q.everything:
        return newest, False
    rel = [c for c in newest if related(c, q)]
    if rel:
        return rel, False
    return newest, True


# ------------------------------------------------------------ subjects


def daemon_facts(state: DaemonState, q: Query) -> dict:
    ep = state.endpoint
    return {
        "daemon.reachable": state.reachable,
        "daemon.error": state.error.kind if state.error else None,
        "daemon.error_detail": state.error.detail if state.error else None,
        "daemon.endpoint": ep.url,
        "daemon.socket_path": ep.socket_path,
        "daemon.socket_group": ep.socket_group,
        "daemon.local_user": state.local_user or None,
        "daemon.context": ep.context,
        "query.path": q.paths[0] if q.paths else None,
    }


VALID_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def suggest_name(name: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name.strip()).strip("-_.")
    return s or "my-data"


def volume_facts(state: DaemonState, name: str) -> dict:
    vol = state.volume(name)
    names = [v.name for v in state.volumes]
    misses = near_misses(name, names) if vol is None else []
    users = [c.name for c in state.containers if any(m.type == "volume" and m.name == name for m in c.mounts)]
    return {
        "volume.name": name,
        "volume.exists": vol is not None,
        "volume.near_miss": misses[0] if misses else None,
        "volume.near_misses": ", ".join(misses) or None,
        "volume.used_by": " ".join(users) or None,
        "volume.valid_name": bool(VALID_VOLUME_NAME.fullmatch(name)),
        "volume.suggested_name": None if VALID_VOLUME_NAME.fullmatch(name) else suggest_name(name),
        "volume.mountpoint": vol.mountpoint if vol else None,
    }


def _mount_label(m: Mount) -> str:
    if m.type == "volume":
        return "an anonymous volume" if m.anonymous else m.name
    return m.source or m.type


def container_facts(c: Container, q: Query, in_question: bool) -> dict:
    d = c.detail
    uid, gid = resolve_user(d.user, d.passwd) if d else (None, None)
    image_vols = d.image_volumes if d else ()
    wanted, origin = None, None
    if q.paths:
        # Prefer the path one of this container's mounts covers, else the first.
        wanted = next((p for p in q.paths if any(covers(m.destination, p) for m in c.mounts)), q.paths[0])
        origin = "query"
    elif image_vols:
        wanted, origin = image_vols[0], "image"
    covering = None
    nearest = None
    if wanted:
        cover = [m for m in c.mounts if covers(m.destination, wanted)]
        covering = max(cover, key=lambda m: len(m.destination)) if cover else None
        if covering is None and c.mounts:
            nearest = max(c.mounts, key=lambda m: fuzz.ratio(m.destination, wanted))
    return {
        "container.name": c.name,
        "container.id": c.short_id,
        "container.image": c.image,
        "container.state": c.state,
        "container.user": (d.user or "root (default)") if d else None,
        "container.uid": uid,
        "container.gid": gid,
        "container.mount_count": len(c.mounts),
        "container.mounts": ", ".join(f"{_mount_label(m)} -> {m.destination}" for m in c.mounts) or "none",
        "container.image_volumes": ", ".join(image_vols) or None,
        "container.in_question": in_question,
        "path.wanted": wanted,
        "path.origin": origin,
        "path.covered_by": (("anonymous" if covering.anonymous else covering.type) if covering else None),
        "path.covering_name": _mount_label(covering) if covering else None,
        "path.nearest_destination": nearest.destination if nearest else None,
        "path.nearest_name": _mount_label(nearest) if nearest else None,
    }


def mount_facts(state: DaemonState, m: Mount, cfacts: dict) -> dict:
    st = state.path_stats.get(m.source) if m.source else None
    writable = None
    if st is not None and not state.info.rootless:
        writable = can_write(cfacts["container.uid"], cfacts["container.gid"], st.uid, st.gid, st.mode)
    return {
        "mount.type": m.type,
        "mount.name": (m.name if m.type == "volume" else m.source) or None,
        "mount.source": m.source or None,
        "mount.destination": m.destination,
        "mount.rw": m.rw,
        "mount.anonymous": m.anonymous,
        "mount.visible": st is not None,
        "mount.owner_uid": st.uid if st else None,
        "mount.owner_gid": st.gid if st else None,
        "mount.mode": format(st.mode, "o") if st else None,
        "mount.writable": writable,
    }


def subjects(state: Optional[DaemonState], q: Query, scopes: set[str]) -> dict[str, list[Subject]]:
    """The subjects for each scope asked for."""
    out: dict[str, list[Subject]] = {s: [] for s in scopes}
    if state is None:
        return out
    base = daemon_facts(state, q)
    if "daemon" in scopes:
        out["daemon"].append(Subject("daemon", "daemon", base))
    if not state.reachable:
        return out
    if "volume" in scopes:
        for name in q.volumes:
            out["volume"].append(Subject("volume", f"volume {name}", {**base, **volume_facts(state, name)}))
    if scopes & {"container", "mount"}:
        conts, fallback = focus(state, q)
        if fallback:
            # Nothing pointed anywhere: the containers that were looked at
            # closely are the leads, and only the newest for container-wide rules.
            conts = [c for c in conts if c.detail is not None] or conts[:1]
        for i, c in enumerate(conts):
            cf = {**base, **container_facts(c, q, in_question=not q.everything)}
            if "container" in scopes and (i == 0 or not fallback):
                out["container"].append(Subject("container", f"container {c.name}", cf))
            if "mount" in scopes:
                for m in c.mounts:
                    if m.type not in ("volume", "bind"):
                        continue
                    if q.paths and not any(covers(m.destination, p) for p in q.paths) and not q.named_container:
                        continue
                    out["mount"].append(Subject("mount", f"container {c.name}, mount {m.destination}",
                                                {**cf, **mount_facts(state, m, cf)}))
    return out
