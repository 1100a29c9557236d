"""Facts about one container and the data path in question inside it."""

from __future__ import annotations

import posixpath
import re
import shlex

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from voldoctor.facts.base import Fact
from voldoctor.facts.command import SHELLS, passes_through
from typing import Optional

from voldoctor.facts.common import (NEAR_MISS_EDITS, Query, covers, data_folder, holds_data, mount_arg, resolve_user,
                                    run_argv, volume_about)
from voldoctor.shellquote import AND
from voldoctor.state import Container, DaemonState, Mount

SUBJECT = "container"
DECLARED = [
    Fact("container.name", "str", "container name"),
    Fact("container.id", "str", "short container id"),
    Fact("container.image", "str", "image the container runs"),
    Fact("container.state", "str", "running, exited, created, ..."),
    Fact("container.user", "str", "the user the container runs as, as configured"),
    Fact("container.uid", "int", "that user's numeric uid (0 when none is set)"),
    Fact("container.gid", "int", "that user's numeric gid"),
    Fact("container.mount_count", "int", "how many mounts it has"),
    Fact("container.mounts", "str", "its mounts, summarised"),
    Fact("container.image_volumes", "str", "paths the image declares as VOLUME"),
    Fact("container.in_question", "bool", "named by the learner, or the best lead"),
    Fact("container.workdir", "str", "the container's working directory (from the image)"),
    Fact("container.auto_remove", "bool", "started with --rm"),
    Fact("container.init_env", "str", "first-run settings it passes (database passwords, names), names only"),
    Fact("container.database", "str", "the database it runs (postgres, mysql, mariadb, mongo): its image is that "
         "database's and its first-run settings are that database's"),
    Fact("container.layer_writes", "str", "files it wrote outside every mount (they die with it)", "changes"),
    Fact("container.layer_write_count", "int", "how many such files", "changes"),
    Fact("container.layer_first", "str", "the first of those files", "changes"),
    Fact("container.save_layer", "argv", "docker cp lines that keep a copy on the host (./NAME-saved-PATH) of "
         "what goes with it when it is removed: what it wrote outside its mounts and outside path.wanted, and "
         "with --rm its unnamed volumes", "changes"),
    Fact("path.written", "int", "how many files it wrote below path.wanted, outside its mounts", "changes"),
    Fact("container.write_folder", "str", "the folder that most needs a volume: path.wanted when it wrote files "
         "there, else the first folder it wrote files to outside its mounts", "changes"),
    Fact("container.save_other", "argv", "docker cp lines that keep a copy on the host of what it wrote outside its "
         "mounts and outside container.write_folder", "changes"),
    Fact("container.write_volume", "str", "a name for the volume of container.write_folder (the container's "
         "name and the folder's)", "changes"),
    Fact("container.rerun_write_folder", "argv", "the docker run that starts it again with container.write_volume "
         "on container.write_folder", "changes"),
    Fact("container.compose", "str", "the Compose service and project that made it ('service web of the project "
         "shop'), when it carries Compose's labels"),
    Fact("path.wanted", "str", "the data path in question (the learner's, else an image VOLUME)"),
    Fact("path.origin", "str", "where path.wanted came from: query, image, or written (nothing named: a folder it "
         "wrote to, one slip from a mount's path)"),
    Fact("path.covered_by", "str", "what is mounted over path.wanted: volume, bind, "
         "anonymous, tmpfs (absent when nothing is)"),
    Fact("path.covering_name", "str", "the volume or host path mounted over path.wanted"),
    Fact("path.nearest_destination", "str", "the mount destination closest to path.wanted"),
    Fact("path.nearest_name", "str", "what is mounted at path.nearest_destination"),
    Fact("path.nearest_shared", "str", "other containers that mount what is mounted at path.nearest_destination, "
         "space separated", words=True),
    Fact("path.host_only", "bool", "path.wanted is a folder of a Mac or Windows host (/Users/..., /Volumes/..., "
         "/mnt/c/..., C:/...), named for a bind mount's source, not where an app in a container keeps data"),
    Fact("path.slip", "bool", "path.nearest_destination is path.wanted with a letter or two slipped (/srv/blgo for "
         "/srv/blog): the mount was meant for the path in question"),
    Fact("path.nearest_unused", "bool", "what is mounted at path.nearest_destination is known to hold nothing (so "
         "moving it to path.wanted takes nothing from the app); no when it holds files or is not known", "df"),
    Fact("path.rescue_from", "str", "an older anonymous volume, used by no container and holding data: where "
         "the data at path.wanted most likely is now", "df"),
    Fact("path.rescue_about", "str", "its short id, size and age", "df"),
    Fact("path.left_volume", "str", "the one named volume that no container uses and that holds files (where the "
         "data of a container made again without its volume most likely is); absent when none or several", "df"),
    Fact("path.left_about", "str", "that volume's size and age", "df"),
    Fact("path.rerun_left", "argv", "the docker run that starts this container again with path.left_volume on "
         "path.wanted", "df"),
    Fact("path.named_volume", "str", "a volume name to give path.wanted (the container's name + '-data')"),
    Fact("path.rerun_moved", "argv", "the docker run that starts this container again with what is mounted at "
         "path.nearest_destination mounted at path.wanted instead"),
    Fact("container.rerun", "argv", "the docker run that starts this container again as it was"),
    Fact("container.entrypoint", "str", "its ENTRYPOINT, as configured"),
    Fact("container.command", "str", "the words given after the image (its command, or its ENTRYPOINT's arguments)"),
    Fact("container.shell_to_entrypoint", "bool", "its command starts with a shell (sh -c ...) that its ENTRYPOINT, "
         "a program rather than an entrypoint script, received as arguments instead of running it"),
    Fact("container.rerun_shell", "argv", "the docker run that starts it again with that shell as its entrypoint"),
    Fact("container.stop_rm", "argv", "the commands that stop and remove this container before it is made again "
         "(docker rm -f when it was started with --rm: stopping removes it too, but in the background)"),
    Fact("container.read_only_root", "bool", "started with --read-only: only its read-write mounts and tmpfs "
         "folders can be written"),
    Fact("container.writable", "str", "where a container started with --read-only can write: its read-write "
         "mounts and tmpfs folders ('nowhere' when it has none)"),
    Fact("container.rerun_writable", "argv", "the docker run that starts this container again without --read-only"),
    Fact("path.on_read_only_root", "bool", "path.wanted lies on a read-only root filesystem: no read-write mount "
         "or tmpfs folder covers it"),
    Fact("path.write_dir", "str", "the folder to mount so that writes at path.wanted succeed: its parent "
         "(path.wanted itself when the parent is /)"),
    Fact("path.rerun_write_dir", "argv", "the docker run that starts this container again with path.named_volume "
         "mounted at path.write_dir"),
    Fact("path.rerun_named", "argv", "the docker run that starts this container again with path.wanted on path.named_volume"),
]


def rescue_candidates(state: DaemonState, c: Container) -> list[str]:
    """Anonymous volumes no container uses that hold data and are older than
    this container: the likeliest first (holding data, then newest)."""
    used = state.volume_users()
    rows = []
    for v in state.volumes:
        m = Mount(type="volume", name=v.name, destination="/", anon_label="com.docker.volume.anonymous" in v.labels)
        if v.name in used or not m.anonymous or holds_data(state, v.name) is False:
            continue
        rows.append((holds_data(state, v.name) is True, v.created_at, v.name))
    return [n for _, _, n in sorted(rows, reverse=True)]


# image base name -> the database; the prefixes of that database's first-run settings
DATABASES = {"postgres": ("postgres", ("POSTGRES_",)), "postgis": ("postgres", ("POSTGRES_",)),
             "timescaledb": ("postgres", ("POSTGRES_",)), "mysql": ("mysql", ("MYSQL_",)),
             "percona": ("mysql", ("MYSQL_",)), "mariadb": ("mariadb", ("MARIADB_", "MYSQL_")),
             "mongo": ("mongo", ("MONGO_INITDB_",))}


def database(image: str, env_names: tuple[str, ...]) -> Optional[str]:
    """The database a container runs, when its image and its settings agree."""
    base = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()
    db = DATABASES.get(base)
    if db is None or not any(e.startswith(db[1]) for e in env_names):
        return None
    return db[0]


NOT_DATA = frozenset({"/", "/root", "/tmp", "/run", "/var/run", "/etc", "/var/log", "/var/cache", "/dev", "/proc"})


def written_folders(c: Container) -> list[str]:
    """Folders where the container wrote files outside its mounts (its layer's changes,
    when read), deepest entries first in the daemon's order; system folders left out."""
    ch = (c.detail.changes if c.detail is not None else None) or ()
    leaves = [p for p in ch if not any(o.startswith(p.rstrip("/") + "/") for o in ch)]
    return list(dict.fromkeys(posixpath.dirname(p) for p in leaves if posixpath.dirname(p) not in NOT_DATA
                              and not any(covers(m.destination, p) for m in c.mounts)))


SAVE_MAX = 4  # copy lines at most: more written paths are copied by their folders


def save_argv(name: str, paths: list[str]) -> Optional[list[str]]:
    """docker cp lines (joined by &&) that copy these paths out of the container,
    each to ./NAME-saved-PATH in the current folder; None when that would copy /."""
    items = sorted(set(paths))
    while len(items) > SAVE_MAX:
        items = sorted({posixpath.dirname(p.rstrip("/")) or "/" for p in items})
    items = [p for p in items if not any(o != p and o != "/" and p.startswith(o.rstrip("/") + "/") for o in items)]
    if not items or "/" in items:
        return None
    out: list[str] = []
    for p in items:
        out += ([AND] if out else []) + ["docker", "cp", f"{name}:{p}", f"./{name}-saved{p.rstrip('/').replace('/', '-')}"]
    return out


def mount_label(m: Mount) -> str:
    if m.type == "volume":
        return "an anonymous volume" if m.anonymous else m.name
    return m.source or m.type


def produce(c: Container, q: Query, in_question: bool, state: Optional[DaemonState] = None) -> dict:
    d = c.detail
    uid, gid = resolve_user(d.user, d.passwd) if d else (None, None)
    image_vols = d.image_volumes if d else ()
    wanted, origin = None, None
    inside = [p for p in q.paths if p.startswith("/")]  # a path in a container is absolute ('my-data/app/data' is not)
    if inside:
        # Prefer the path one of this container's mounts covers, else the first; a file stands for its folder.
        wanted = next((p for p in inside if any(covers(m.destination, p) for m in c.mounts)), inside[0])
        wanted, origin = data_folder(wanted), "query"
    elif image_vols:
        wanted, origin = image_vols[0], "image"
    elif c.mounts and d is not None and d.changes:
        # nothing named: a folder it wrote to, one slip from where a mount went (/app/data beside /app/dta)
        wanted = next((w for w in written_folders(c) for m in c.mounts if slipped(m.destination, w)), None)
        origin = "written" if wanted else None
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
    rescue = None
    if state is not None and covering is not None and covering.anonymous:
        rescue = next(iter(rescue_candidates(state, c)), None)
    left = None
    if state is not None and state.volume_sizes is not None and wanted and not c.mounts:
        used = state.volume_users()
        held = [v.name for v in state.volumes if v.name not in used and not (len(v.name) == 64 and v.name.isalnum())
                and holds_data(state, v.name)]
        left = held[0] if len(held) == 1 else None
    named = f"{c.name}-data"
    if state is not None and state.volume(named) is not None and not (nearest and nearest.name == named):
        named = next(f"{named}-{i}" for i in range(2, 100) if state.volume(f"{named}-{i}") is None)
    rerun = None
    if wanted and (covering is None or covering.type == "volume"):
        mounts = [mount_arg(m) for m in c.mounts if m is not covering] + [["-v", f"{named}:{wanted}"]]
        rerun = run_argv(c, mounts)
    unused = None
    if nearest is not None and state is not None:
        if nearest.type == "volume" and nearest.name:
            unused = holds_data(state, nearest.name) is False
        elif nearest.type == "bind":
            unused = getattr(state.path_stats.get(nearest.source), "empty", None) is True
    moved = None
    if nearest is not None and not nearest.anonymous and nearest.type in ("volume", "bind"):
        src = nearest.name if nearest.type == "volume" else nearest.source
        moved = run_argv(c, [["-v", f"{src}:{wanted}" + ("" if m.rw else ":ro")] if m is nearest else mount_arg(m)
                             for m in c.mounts])
    read_only = bool(d and d.read_only)
    writable = [m.destination for m in c.mounts if m.rw] + [t.split(":", 1)[0] for t in (d.tmpfs if d else ())]
    on_root = read_only and wanted is not None and not any(covers(w, wanted) for w in writable) \
        and not any(covers(m.destination, wanted) for m in c.mounts)
    write_dir = (posixpath.dirname(wanted.rstrip("/")) or "/") if on_root else None
    if write_dir == "/":
        write_dir = wanted
    shell = bool(d and d.entrypoint and d.cmd and posixpath.basename(d.cmd[0]) in SHELLS
                 and not passes_through(d.entrypoint))
    folder = wanted if wanted and writes and any(covers(wanted, p) for p in writes) else \
        next(iter(written_folders(c)), None) if writes else None
    write_volume = f"{c.name}-{posixpath.basename(folder.rstrip('/'))}" if folder else None
    # with --rm, stopping deletes its unnamed volumes too: what they hold is kept with the layer's files
    gone = [m.destination for m in c.mounts if d is not None and d.auto_remove and m.anonymous
            and (state is None or holds_data(state, m.name) is not False)]
    # with --rm the daemon removes it after a stop, in the background: a run under its name right after a stop can
    # still find it there, so such a container is removed at once (it would be gone anyway; copies come first)
    stop_rm = ["docker", "rm", "-f", c.name] if d is not None and d.auto_remove else \
        ["docker", "stop", c.name, AND, "docker", "rm", c.name]
    return {
        "container.stop_rm": stop_rm,
        "container.read_only_root": read_only if d else None,
        "container.writable": (", ".join(writable) or "nowhere") if read_only else None,
        "container.rerun_writable": run_argv(c.model_copy(update={"detail": d.model_copy(update={"read_only": False})}))
        if read_only else None,
        "path.on_read_only_root": on_root if read_only and wanted else None,
        "path.write_dir": write_dir,
        "path.rerun_write_dir": run_argv(c, [mount_arg(m) for m in c.mounts] + [["-v", f"{named}:{write_dir}"]])
        if write_dir else None,
        "path.rerun_moved": moved,
        "path.nearest_unused": unused,
        "container.rerun": run_argv(c),
        "container.entrypoint": shlex.join(d.entrypoint) or None if d else None,
        "container.command": shlex.join(d.cmd) or None if d else None,
        "container.shell_to_entrypoint": shell if d and d.entrypoint else None,
        "container.rerun_shell": run_argv(c.model_copy(update={"detail": d.model_copy(
            update={"entrypoint": d.cmd[:1], "cmd": d.cmd[1:]})})) if shell else None,
        "path.rescue_from": rescue,
        "path.rescue_about": f"{rescue[:12]}, " + volume_about(state, rescue) if rescue else None,
        "path.named_volume": named if wanted else None,
        "path.left_volume": left,
        "path.left_about": volume_about(state, left) if left else None,
        "path.rerun_left": run_argv(c, [["-v", f"{left}:{wanted}"]]) if left else None,
        "path.rerun_named": rerun,
        "container.workdir": (d.workdir or None) if d else None,
        "container.auto_remove": d.auto_remove if d else None,
        "container.init_env": ", ".join(d.init_env) or None if d else None,
        "container.database": database(c.image, d.init_env) if d else None,
        "container.layer_writes": (", ".join(writes[:8]) + (f" and {len(writes) - 8} more" if len(writes) > 8 else ""))
        if writes else None,
        "container.layer_write_count": len(writes) if writes is not None else None,
        "container.layer_first": writes[0] if writes else None,
        "container.save_layer": save_argv(c.name, [p for p in writes if not (wanted and covers(wanted, p))] + gone)
        if writes or gone else None,
        "path.written": sum(covers(wanted, p) for p in writes) if writes is not None and wanted else None,
        "container.write_folder": folder,
        "container.save_other": save_argv(c.name, [p for p in writes if not covers(folder, p)] + gone)
        if folder and writes else None,
        "container.write_volume": write_volume,
        "container.rerun_write_folder": run_argv(c, [mount_arg(m) for m in c.mounts] + [["-v", f"{write_volume}:{folder}"]])
        if folder else None,
        "container.name": c.name,
        "container.compose": (f"service {c.labels['com.docker.compose.service']} of the Compose project "
                              f"{c.labels['com.docker.compose.project']}")
        if {"com.docker.compose.service", "com.docker.compose.project"} <= set(c.labels) else None,
        "container.id": c.short_id,
        "container.image": c.image,
        "container.state": c.state,
        "container.user": (d.user or "root (default)") if d else None,
        "container.uid": uid,
        "container.gid": gid,
        "container.mount_count": len(c.mounts),
        "container.mounts": ", ".join(f"{mount_label(m)} -> {m.destination}" for m in c.mounts) or "none",
        "container.image_volumes": ", ".join(image_vols) or None,
        "container.in_question": in_question,
        "path.wanted": wanted,
        "path.origin": origin,
        "path.covered_by": (("anonymous" if covering.anonymous else covering.type) if covering else None),
        "path.covering_name": mount_label(covering) if covering else None,
        "path.nearest_destination": nearest.destination if nearest else None,
        "path.nearest_name": mount_label(nearest) if nearest else None,
        "path.slip": slipped(nearest.destination, wanted) if nearest else None,
        "path.host_only": bool(HOST_ONLY.match(wanted)) if wanted else None,
        "path.nearest_shared": " ".join(n for n in state.volume_users().get(nearest.name, []) if n != c.name) or None
        if state is not None and nearest is not None and nearest.type == "volume" and nearest.name else None,
    }


HOST_ONLY = re.compile(r"(?:/Users|/Volumes|/private|/host_mnt|/mnt/[a-z]|/[a-z]|[A-Za-z]:)(?:/|\\|$)")


def slipped(mounted: str, wanted: str) -> bool:
    """Two paths that differ by a slip of a letter or two in one component, not two different folders."""
    a, b = mounted.rstrip("/").split("/"), wanted.rstrip("/").split("/")
    if len(a) != len(b) or a == b:
        return False
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    return len(diff) == 1 and min(len(diff[0][0]), len(diff[0][1])) >= 3 \
        and OSA.distance(*diff[0]) <= (1 if len(diff[0][1]) <= 5 else NEAR_MISS_EDITS)  # a swap counts once
