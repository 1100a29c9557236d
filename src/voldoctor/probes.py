"""Derived facts: from a DaemonState and a question to the subjects rules run over.

Pure: no I/O. Everything here reads the frozen state, so a snapshot and the
live daemon give the same subjects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from rapidfuzz import fuzz, process

from voldoctor.commandline import MountSpec, ParsedCommand
from voldoctor.state import Container, DaemonState, Image, Mount

NEAR_MISS_CUTOFF = 75


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


def _where(state: DaemonState) -> str:
    if state.info.desktop:
        return "desktop-vm"
    if not state.endpoint.url.startswith("unix://"):
        return "remote"
    return "rootless" if state.info.rootless else "host"


def _age(created_at: str, now: float) -> str:
    from datetime import datetime

    try:
        secs = now - datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "age unknown"
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= n:
            k = int(secs // n)
            return f"{k} {unit}{'s' if k != 1 else ''} old"
    return "just made"


def _size(n: Optional[int]) -> str:
    if n is None or n < 0:
        return "size unknown"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def dangling(state: DaemonState) -> list[tuple[str, Optional[int], str]]:
    """Volumes no container (running or stopped) uses: name, size, age; largest first."""
    import time

    used = state.volume_users()
    sizes = state.volume_sizes or {}
    now = time.time()
    rows = [(v.name, sizes.get(v.name), _age(v.created_at, now)) for v in state.volumes if v.name not in used]
    return sorted(rows, key=lambda r: -(r[1] or 0))


def _normal_image(ref: str) -> str:
    ref = ref.removeprefix("docker.io/").removeprefix("library/")
    return ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else ref + ":latest"


def image_of(state: DaemonState, ref: str) -> Optional[Image]:
    want = _normal_image(ref)
    for i in state.images or ():
        if want in {_normal_image(t) for t in i.tags} or i.id.startswith(ref) or i.id.removeprefix("sha256:").startswith(ref):
            return i
    return None


def daemon_facts(state: DaemonState, q: Query) -> dict:
    ep = state.endpoint
    facts = {
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
    if not state.reachable:
        return facts
    from voldoctor.daemon_facts import helper_image  # pure helper, no docker import

    free = state.free_bytes
    if free is None:
        helper_free = [s.free_bytes for s in state.path_stats.values() if s.free_bytes is not None]
        free = min(helper_free) if helper_free else None
    dang = dangling(state)
    facts.update({
        "daemon.volumes_where": _where(state),
        "daemon.root_dir": state.info.root_dir or None,
        "daemon.free_mb": free // (1024 * 1024) if free is not None else None,
        "daemon.dangling": ("; ".join(f"{n} ({_size(sz)}, {age})" for n, sz, age in dang[:8])
                            + (f"; and {len(dang) - 8} more" if len(dang) > 8 else "")) or None,
        "daemon.dangling_count": len(dang),
        "daemon.desktop": state.info.desktop,
        "daemon.helper_image": helper_image(state.images) if state.images is not None else None,
    })
    cmd = q.command if q.command is not None and q.command.ok else None
    port = next((p for p, _ in (cmd.ports if cmd else ()) if p), None) or (q.ports[0] if q.ports else None)
    if port is not None:
        holders = [c.name for c in state.containers for p in c.ports if p.public == port]
        held = f"container {holders[0]}" if holders else (
            "a program on this machine (not a container)" if port in state.listening else None)
        facts.update({"port.number": port, "port.held_by": held})
    name = (cmd.name if cmd and cmd.name else None) or (q.names[0] if q.names else None)
    if name:
        other = state.container(name)
        facts.update({"name.wanted": name, "name.taken_by": f"{other.name} ({other.short_id})" if other else None,
                      "name.state": other.state if other else None})
    image = (cmd.image if cmd and cmd.image else None) or (q.images[0] if q.images else None)
    if image and state.images is not None:
        have = image_of(state, image)
        tags = [t for i in state.images for t in i.tags]
        near = process.extractOne(_normal_image(image), tags, scorer=fuzz.ratio, score_cutoff=80) if not have else None
        facts.update({"image.wanted": image, "image.present": have is not None, "image.near": near[0] if near else None})
    return facts


VALID_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def suggest_name(name: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name.strip()).strip("-_.")
    return s or "my-data"


def volume_facts(state: DaemonState, name: str) -> dict:
    vol = state.volume(name)
    names = [v.name for v in state.volumes]
    misses = near_misses(name, names) if vol is None else []
    users = state.volume_users().get(name, [])
    compose = None
    if vol is None:
        compose = next((v.name for v in state.volumes if v.labels.get("com.docker.compose.volume") == name), None) \
            or next((v.name for v in state.volumes if v.name.endswith("_" + name)), None)
    st = state.path_stats.get(vol.mountpoint) if vol else None
    return {
        "volume.name": name,
        "volume.exists": vol is not None,
        "volume.compose_match": compose,
        "volume.owner_uid": st.uid if st else None,
        "volume.mode": format(st.mode, "o") if st else None,
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
    writes = None
    if d is not None and d.changes is not None:
        # Docker itself makes the mount points (and their parents) in the layer: not the app's writes.
        writes = [p for p in d.changes if not any(covers(m.destination, p) or m.destination.startswith(p.rstrip("/") + "/")
                                                   for m in c.mounts)]
        # keep the deepest entries: a new folder and the files in it read as the files
        writes = [p for p in writes if not any(o != p and o.startswith(p.rstrip("/") + "/") for o in writes)]
    return {
        "container.workdir": (d.workdir or None) if d else None,
        "container.auto_remove": d.auto_remove if d else None,
        "container.init_env": ", ".join(d.init_env) or None if d else None,
        "container.layer_writes": (", ".join(writes[:8]) + (f" and {len(writes) - 8} more" if len(writes) > 8 else ""))
        if writes else None,
        "container.layer_write_count": len(writes) if writes is not None else None,
        "container.layer_first": writes[0] if writes else None,
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


def mount_facts(state: DaemonState, m: Mount, cfacts: dict, c: Optional[Container] = None) -> dict:
    st = state.path_stats.get(m.source) if m.source else None
    writable = None
    if st is not None and not state.info.rootless:
        writable = can_write(cfacts["container.uid"], cfacts["container.gid"], st.uid, st.gid, st.mode)
    exists = None
    if m.type == "bind" and state.local:
        exists = False if m.source in state.missing_paths else (True if st is not None else None)
    created = c.created if c is not None else 0
    daemon_made = None
    if m.type == "bind" and st is not None and created:
        # The daemon makes a missing bind source as an empty, root-owned folder at create time.
        daemon_made = st.uid == 0 and st.is_dir and st.empty is True and abs(st.mtime - created) <= 10
    workdir = cfacts.get("container.workdir")
    predates = None
    if m.type == "volume" and st is not None and created:
        # Data older than the container: it was initialised by an earlier one.
        predates = st.oldest is not None and st.oldest < created - 2
    return {
        "mount.source_exists": exists,
        "mount.source_empty": st.empty if st else None,
        "mount.daemon_created": daemon_made,
        "mount.covers_workdir": bool(workdir and m.destination not in ("/", "") and covers(m.destination, workdir)),
        "mount.predates_container": predates,
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


DATA_NAMES = frozenset("data db database storage uploads files mysql postgresql pgdata mongodb redis www html logs".split())


def writes_expected(target: str, image_volumes: tuple[str, ...]) -> bool:
    """The path is where an app keeps what it writes."""
    if any(covers(v, target) or covers(target, v) for v in image_volumes):
        return True
    return any(part in DATA_NAMES for part in target.lower().split("/"))


def spec_facts(state: DaemonState, spec: MountSpec, image_volume: bool = False,
               image_volumes: tuple[str, ...] = ()) -> dict:
    problem = spec.problem
    if problem and problem.startswith("a Windows path") and state.info.desktop:
        problem = None  # Docker Desktop's CLI turns Windows paths into ones its VM understands
    vol_exists = near = None
    if spec.type == "volume" and spec.source:
        vol_exists = state.volume(spec.source) is not None
        if not vol_exists:
            misses = near_misses(spec.source, [v.name for v in state.volumes])
            near = misses[0] if misses else None
    src_exists = None
    if spec.type == "bind" and spec.source.startswith("/") and state.local:
        src_exists = spec.source not in state.missing_paths
    return {
        "spec.raw": spec.raw,
        "spec.type": spec.type,
        "spec.source": spec.source or None,
        "spec.target": spec.target or None,
        "spec.ro": spec.readonly,
        "spec.problem": problem,
        "spec.corrected": spec.corrected if problem else None,
        "spec.volume_exists": vol_exists,
        "spec.near_miss": near,
        "spec.source_exists": src_exists,
        "spec.image_volume": image_volume,
        "spec.writes_expected": writes_expected(spec.target, image_volumes) if spec.target.startswith("/") else None,
    }


def command_subjects(state: DaemonState, q: Query, base: dict) -> tuple[list[Subject], list[Subject]]:
    cmd = q.command
    if cmd is None or not cmd.ok:
        return [], []
    cf = {**base, "cmd.kind": cmd.kind, "cmd.text": cmd.raw, "cmd.image": cmd.image or None, "cmd.rm": cmd.rm,
          "cmd.user": cmd.user or None}
    img = image_of(state, cmd.image) if cmd.image and state.images is not None else None
    ivols = img.volumes if img else ()
    specs = [Subject("spec", f"command mount {m.raw}", {**cf, **spec_facts(state, m, image_volumes=ivols)})
             for m in cmd.mounts if m.type != "tmpfs"]
    for path in (img.volumes if img else ()):
        if not any(covers(m.target, path) for m in cmd.mounts if m.target):
            ghost = MountSpec(raw=f"(VOLUME {path} of {cmd.image})", type="anonymous", target=path)
            specs.append(Subject("spec", f"image volume {path}", {**cf, **spec_facts(state, ghost, True)}))
    return [Subject("command", "command", cf)], specs


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
    if scopes & {"command", "spec"}:
        cmds, specs = command_subjects(state, q, base)
        out.setdefault("command", []).extend(cmds)
        out.setdefault("spec", []).extend(specs)
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
                                                {**cf, **mount_facts(state, m, cf, c)}))
    return out
