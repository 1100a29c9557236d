"""Facts about one mount of one container: owner, mode, who may write."""

from __future__ import annotations

import re
from typing import Optional

from voldoctor.facts.base import Fact
from voldoctor.facts.common import can_write, covers, holds_data, mount_arg, near_misses, run_argv, volume_about
from voldoctor.state import Container, DaemonState, Mount

SUBJECT = "mount"
DECLARED = [
    Fact("mount.type", "str", "volume, bind or tmpfs"),
    Fact("mount.name", "str", "volume name, or host path for a bind mount"),
    Fact("mount.source", "str", "host path of the mount"),
    Fact("mount.destination", "str", "path inside the container"),
    Fact("mount.rw", "bool", "mounted read-write"),
    Fact("mount.anonymous", "bool", "an unnamed volume made for this container"),
    Fact("mount.visible", "bool", "the host path could be examined from here"),
    Fact("mount.owner_uid", "int", "uid owning the host path"),
    Fact("mount.owner_gid", "int", "gid owning the host path"),
    Fact("mount.mode", "str", "permission bits of the host path, octal"),
    Fact("mount.near_source", "str", "a bind source that was missing (now an empty folder the daemon made), with a "
         "sibling a slip away that exists (app.conf for app.cnf): that path"),
    Fact("mount.rerun_near_source", "argv", "the docker run that starts this container again with "
         "mount.near_source mounted instead"),
    Fact("mount.person_owned", "bool", "a bind mount whose host folder belongs to a person (uid 1 or more), "
         "not to root: a chown to the container's user would lock its owner out"),
    Fact("mount.rerun_owner", "argv", "the docker run that starts this container again as the bind folder's "
         "owner (--user UID:GID)"),
    Fact("mount.writable", "bool", "the container's user may write the host path"),
    Fact("mount.source_exists", "bool", "the bind mount's host path exists (when visible here)"),
    Fact("mount.source_empty", "bool", "the host path is an empty folder"),
    Fact("mount.daemon_created", "bool", "a bind source the daemon made itself (root-owned, made with the container)"),
    Fact("mount.covers_workdir", "bool", "the mount lies over the image's working directory"),
    Fact("mount.predates_container", "bool", "the volume held data from before this container was created"),
    Fact("mount.rerun_rw", "argv", "the docker run that starts this container again as it was, this mount read-write"),
    Fact("mount.empty", "bool", "the volume holds nothing (size 0, or an empty folder)", "df"),
    Fact("mount.about", "str", "the volume's size and age, e.g. 'empty, made 3 minutes ago'", "df"),
    Fact("mount.near_miss", "str", "an existing volume whose name is a slip away from this one's (or is it with a "
         "Compose project's prefix) and that holds data", "df"),
    Fact("mount.near_miss_about", "str", "that volume's size, age and who used it", "df"),
    Fact("mount.near_miss_how", "str", "how the two names differ: by a letter or two, or by a Compose project's prefix",
         "df", words=True),
    Fact("mount.shared_with", "str", "other containers that mount the same volume, space separated", words=True),
    Fact("mount.near_miss_newer", "bool", "mount.near_miss was made after this volume (this one was there first; no when a date is unknown)", "df"),
    Fact("mount.anon_about", "str", "an anonymous volume's size and age, e.g. '12.0 KB, made 3 minutes ago'", "df"),
    Fact("mount.keep_volume", "str", "a name for a volume to keep an anonymous mount's data in (the container's "
         "name + '-data')"),
    Fact("mount.rerun_kept", "argv", "the docker run that starts this container again with mount.keep_volume "
         "in place of this anonymous volume"),
    Fact("mount.fill_volume", "str", "a new volume name for a bind mount's path, which Docker fills from the image "
         "(the container's name + the path's last part)"),
    Fact("mount.rerun_filled", "argv", "the docker run that starts this container again with mount.fill_volume "
         "in place of this bind mount"),
    Fact("mount.rerun_near", "argv", "the docker run that starts this container again with mount.near_miss here", "df"),
    Fact("mount.file_like", "bool", "the mount's path inside the container names a file (app.conf, .env, data.db), "
         "not a folder"),
]

# A last path part that names a file: a name with short extensions (app.conf, db.sqlite3, a.tar.gz), or
# a dotfile that is not one of the usual dot-folders (.env yes, .ssh no).
FILE_LIKE = re.compile(r"^(?:[^.]+(?:\.[A-Za-z][A-Za-z0-9]{0,7})+|\.(?!(?:ssh|config|cache|local|npm|git|m2|gradle|"
                       r"docker|vscode|kube|aws|cargo|rustup|yarn|pnpm-store)$)[A-Za-z0-9_-]+)$")


def _near(state: DaemonState, m: Mount, image: str = "") -> Optional[str]:
    """A volume with data whose name is a slip of this empty one's."""
    if m.type != "volume" or m.anonymous or holds_data(state, m.name) is not False:
        return None
    # a volume another app (another image) is running on holds that app's live data, not this one's
    others = {x.name for x in state.containers if x.state == "running" and x.image != image}
    live = {n for n, users in state.volume_users().items() if others & set(users)}
    for other in near_misses(m.name, [v.name for v in state.volumes]):
        if holds_data(state, other) and other not in live:
            return other
    # the same name with the project prefix Compose gives its volumes (shop_dbdata for dbdata)
    return next((v.name for v in state.volumes if v.name != m.name and holds_data(state, v.name)
                 and v.labels.get("com.docker.compose.volume") == m.name), None)


def _near_how(state: DaemonState, near: str) -> str:
    v = state.volume(near)
    project = v.labels.get("com.docker.compose.project") if v is not None else None
    return f"only by the prefix Compose gives a project's volumes ({project}_)" if project and \
        near.startswith(f"{project}_") else "by a letter or two"


def produce(state: DaemonState, m: Mount, cfacts: dict, c: Optional[Container] = None) -> dict:
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
    near = _near(state, m, c.image) if c is not None else None
    empty = holds_data(state, m.name) is False if m.type == "volume" and m.name else None

    def rerun(new: list[str]) -> Optional[list[str]]:
        return run_argv(c, [new if x is m else mount_arg(x) for x in c.mounts]) if c is not None else None

    near_src = state.near_paths.get(m.source) if m.type == "bind" and m.source else None
    person = bool(m.type == "bind" and st is not None and st.uid >= 1)
    owner_run = run_argv(c.model_copy(update={"detail": c.detail.model_copy(update={"user": f"{st.uid}:{st.gid}"})})) \
        if person and c is not None and c.detail is not None else None
    keep = f"{c.name}-data" if c is not None and m.anonymous else None
    last = m.destination.rstrip("/").rsplit("/", 1)[-1]
    fill = f"{c.name}-{last}" if c is not None and m.type == "bind" and last else None
    return {
        "mount.anon_about": volume_about(state, m.name) if m.anonymous and m.name else None,
        "mount.keep_volume": keep,
        "mount.fill_volume": fill,
        "mount.rerun_filled": rerun(["-v", f"{fill}:{m.destination}" + ("" if m.rw else ":ro")]) if fill else None,
        "mount.rerun_kept": rerun(["-v", f"{keep}:{m.destination}" + ("" if m.rw else ":ro")]) if keep else None,
        "mount.rerun_rw": rerun(mount_arg(m.model_copy(update={"rw": True}))),
        "mount.empty": empty if m.type == "volume" else None,
        "mount.about": volume_about(state, m.name) if m.type == "volume" and m.name and not m.anonymous else None,
        "mount.near_miss": near,
        "mount.file_like": bool(FILE_LIKE.match(last)) if last else False,
        "mount.near_miss_about": volume_about(state, near, users=True) if near else None,
        "mount.near_miss_how": _near_how(state, near) if near else None,
        "mount.near_miss_newer": _newer(state, near, m.name) if near else None,
        "mount.shared_with": " ".join(n for n in state.volume_users().get(m.name, []) if c is None or n != c.name) or None
        if m.type == "volume" and m.name else None,
        "mount.rerun_near": rerun(mount_arg(m.model_copy(update={"name": near}))) if near else None,
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
        "mount.person_owned": person,
        "mount.near_source": near_src,
        "mount.rerun_near_source": rerun(mount_arg(m.model_copy(update={"source": near_src}))) if near_src else None,
        "mount.rerun_owner": owner_run,
    }


def _newer(state: DaemonState, name: str, than: str) -> bool:
    """`name` was made after `than` (False when either date is unknown)."""
    a, b = state.volume(name), state.volume(than)
    if a is None or b is None or not a.created_at or not b.created_at:
        return False
    return a.created_at[:19] > b.created_at[:19]  # ISO 8601, UTC, as the daemon writes it
