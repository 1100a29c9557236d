"""Facts about one thing a project's files set up: a service's mount, a
top-level volume, or a Dockerfile VOLUME; crossed with the daemon's state
when there is one (does the volume exist, who owns it, how large is it)."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from voldoctor.facts.base import Fact
from voldoctor.facts.common import Subject, can_write, covers, holds_data, resolve_user
from voldoctor.state import DaemonState

SUBJECT = "project"
DECLARED = [
    Fact("project.item", "str", "what this subject is: mount (a service's volumes: entry), volume (a top-level "
         "volume) or dockerfile (a VOLUME line)"),
    Fact("project.name", "str", "the Compose project name, as Compose works it out"),
    Fact("project.file", "str", "the compose file (or Dockerfile) this comes from"),
    Fact("project.compose", "str", "the Compose command in use here: 'docker compose' or 'docker-compose'"),
    Fact("project.service", "str", "the service whose volumes: entry this is"),
    Fact("project.mount", "str", "the volumes: entry as written"),
    Fact("project.mount_type", "str", "volume (named), bind (a host folder), anonymous or tmpfs"),
    Fact("project.key", "str", "the volume's key in the file"),
    Fact("project.declared", "bool", "a named volume the service uses is declared under top-level volumes:"),
    Fact("project.volume", "str", "the volume's real name on the daemon (project prefix, name: or external)"),
    Fact("project.external", "bool", "the volume is declared external: true"),
    Fact("project.owned_name", "str", "the name Compose would give the volume were it not external (its name:, else "
         "the project's prefix and the key)"),
    Fact("project.volume_exists", "bool", "that volume exists on the daemon"),
    Fact("project.volume_fresh", "bool", "that volume does not exist yet, or exists and holds nothing (up made it "
         "new under this name)", "df"),
    Fact("project.volume_said", "str", "which of the two, in words", "df", words=True),
    Fact("project.target", "str", "the path inside the container"),
    Fact("project.host_path", "str", "a bind mount's host folder, made absolute against the project folder"),
    Fact("project.host_exists", "bool", "that host folder exists (when this machine is the daemon's)"),
    Fact("project.root_made", "bool", "the host folder is empty and owned by root inside a folder that is not: "
         "the daemon made it"),
    Fact("project.other_kind", "str", "the other thing of the same name: for ./X the volume X, for the volume X "
         "the folder ./X"),
    Fact("project.user", "str", "the service's user: setting"),
    Fact("project.uid", "int", "the numeric uid of that user, when known"),
    Fact("project.owner_uid", "int", "uid owning the mounted volume's or folder's data"),
    Fact("project.writable", "bool", "the service's user may write there"),
    Fact("project.old_volume", "str", "an existing volume, made by Compose under another project name, that "
         "holds this volume's data"),
    Fact("project.old_project", "str", "the project name that made it"),
    Fact("project.old_size", "str", "how much it holds", "df"),
    Fact("project.dockerfile", "str", "the Dockerfile"),
    Fact("project.df_path", "str", "a path the Dockerfile declares with VOLUME"),
    Fact("project.df_line", "int", "the VOLUME line's number"),
    Fact("project.df_insert", "int", "the line a RUN that prepares the path goes before: the first USER above the "
         "VOLUME (after it the RUN would not run as root), else the VOLUME line"),
    Fact("project.df_user", "str", "the USER the image runs as"),
    Fact("project.df_prepared", "bool", "the VOLUME path is made or chowned for that user before the VOLUME line"),
    Fact("project.df_writes_after", "str", "RUN lines after the VOLUME line that write under its path"),
    Fact("project.builder", "str", "the image builder in use, and what it does with those writes"),
    Fact("project.df_mounted", "bool", "a service mounts a volume or folder over the VOLUME path"),
]

NAMES = [f.name for f in DECLARED]


def _base(project, item: str, file: Optional[str], name: Optional[str]) -> dict:
    f = dict.fromkeys(NAMES)
    f.update({"project.item": item, "project.name": name, "project.file": file,
              "project.compose": "docker-compose" if project.flavor == "v1" else "docker compose"})
    return f


def _uid(user: str) -> Optional[int]:
    uid, _ = resolve_user(user, None)
    return uid


def builder(env, state: Optional[DaemonState], flavor: str) -> tuple[str, Optional[bool]]:
    """The builder that builds the image, and whether it throws away RUN writes under a VOLUME path."""
    bk = env.get("DOCKER_BUILDKIT")
    if flavor == "v1" and env.get("COMPOSE_DOCKER_CLI_BUILD") != "1":
        return "the classic builder (docker-compose 1.x builds without BuildKit): those writes are thrown away", True
    if bk == "0":
        return "the classic builder (DOCKER_BUILDKIT=0): those writes are thrown away", True
    if bk == "1":
        return "BuildKit (DOCKER_BUILDKIT=1): those writes are kept, but only in the image", False
    if state is None or not state.reachable:
        return ("the classic builder throws those writes away; BuildKit (the default from Engine 23) keeps them "
                "in the image"), None
    major = state.info.server_version.split(".")[0]
    if major.isdigit() and int(major) >= 23:
        return f"BuildKit (the default on Engine {state.info.server_version}): those writes are kept, but only in the image", False
    return (f"the classic builder (the default on Engine {state.info.server_version or '?'}): "
            "those writes are thrown away"), True


def _old_volume(state: DaemonState, key: str, real: str, project_name: str):
    """A volume Compose made for the same key under another project name."""
    sizes = state.volume_sizes or {}
    hits = []
    for v in state.volumes:
        if v.name == real:
            continue
        lab_key, lab_proj = v.labels.get("com.docker.compose.volume"), v.labels.get("com.docker.compose.project")
        if lab_key == key and lab_proj and lab_proj != project_name:
            hits.append((v, lab_proj))
        elif not lab_key and v.name.endswith("_" + key) and v.name[: -len(key) - 1] not in ("", project_name):
            hits.append((v, v.name[: -len(key) - 1]))
    if not hits:
        return None
    v, proj = max(hits, key=lambda h: sizes.get(h[0].name) or 0)
    return v.name, proj, sizes.get(v.name)


def subjects(project, state: Optional[DaemonState], base: dict) -> list[Subject]:
    from voldoctor import compose, deletes

    live = state is not None and state.reachable
    try:
        pname = project.name()
    except compose.ComposeError:
        pname = None
    out: list[Subject] = []
    for decl in project.volumes:
        f = _base(project, "volume", project.compose_file, pname)
        real = project.volume_name(decl, pname, state=state) if pname else None
        f.update({"project.key": decl.key, "project.volume": real, "project.external": decl.external,
                  "project.declared": True})
        if decl.external and pname:
            f["project.owned_name"] = project.volume_name(dataclasses.replace(decl, external=False), pname)
        if live and real:
            f["project.volume_exists"] = state.volume(real) is not None
            empty = f["project.volume_exists"] and holds_data(state, real) is False
            f["project.volume_fresh"] = not f["project.volume_exists"] or empty
            f["project.volume_said"] = "is there but empty (up made it new under this name)" if empty else \
                "does not exist yet (up creates it empty)"
            if f["project.volume_fresh"] and not decl.external and not decl.name:
                old = _old_volume(state, decl.key, real, pname)
                if old:
                    f["project.old_volume"], f["project.old_project"] = old[0], old[1]
                    f["project.old_size"] = deletes.human_size(old[2] if old[2] is None or old[2] >= 0 else None)
        out.append(Subject("project", f"volume {decl.key} in {project.compose_file}", {**base, **f}))
    for s in project.services:
        uid = _uid(s.user) if s.user else None
        for m in s.mounts:
            f = _base(project, "mount", project.compose_file, pname)
            f.update({"project.service": s.name, "project.mount": m.raw, "project.mount_type": m.type,
                      "project.target": m.target, "project.user": s.user or None, "project.uid": uid})
            if m.type == "volume":
                decl = project.declared(m.source)
                real = project.volume_name(decl, pname, state=state) if decl and pname else None
                folder = os.path.join(project.dir, m.source)
                f.update({"project.key": m.source, "project.declared": decl is not None, "project.volume": real,
                          "project.external": decl.external if decl else None,
                          "project.other_kind": "./" + m.source if project.host.get(folder, {}).get("is_dir") else None})
                if live and real:
                    vol = state.volume(real)
                    f["project.volume_exists"] = vol is not None
                    st = state.path_stats.get(vol.mountpoint) if vol is not None else None
                    if st is not None:
                        f["project.owner_uid"] = st.uid
                        if s.user and not m.read_only:
                            uid_, gid_ = resolve_user(s.user, None)
                            f["project.writable"] = can_write(uid_, gid_, st.uid, st.gid, st.mode)
            elif m.type == "bind":
                h = project.host.get(m.host_path) or {}
                key = os.path.basename(m.host_path.rstrip("/"))
                decl = project.declared(key)
                other = None
                if m.source.startswith(".") and decl is not None and pname:
                    other = "the volume " + project.volume_name(decl, pname, state=state)
                elif m.source.startswith(".") and live and pname and state.volume(f"{pname}_{key}") is not None:
                    other = f"the volume {pname}_{key}"
                local = state is None or not state.reachable or state.local
                f.update({"project.host_path": m.host_path, "project.other_kind": other})
                if local:
                    f["project.host_exists"] = bool(h.get("exists"))
                    if h.get("exists"):
                        f["project.owner_uid"] = h.get("uid")
                        f["project.root_made"] = bool(h.get("is_dir") and h.get("uid") == 0 and h.get("empty")
                                                      and h.get("parent_uid") not in (0, None))
                        if s.user and not m.read_only:
                            uid_, gid_ = resolve_user(s.user, None)
                            f["project.writable"] = can_write(uid_, gid_, h["uid"], h["gid"], h["mode"])
            out.append(Subject("project", f"service {s.name}, {m.raw}", {**base, **f}))
    for df in project.dockerfiles:
        users = [s for s in project.services if s.dockerfile == df.path]
        text, _lost = builder(project.env, state, project.flavor if users else "cli")
        for v in df.volumes:
            f = _base(project, "dockerfile", df.path, pname)
            mounted = any(covers(m.target, v.path) for s in users for m in s.mounts if m.type in ("volume", "bind"))
            f.update({"project.dockerfile": df.path, "project.df_path": v.path, "project.df_line": v.line, "project.df_insert": v.insert_before,
                      "project.df_user": v.user or None, "project.df_prepared": v.prepared,
                      "project.df_writes_after": "; ".join(v.writes_after) or None, "project.builder": text,
                      "project.df_mounted": mounted, "project.service": users[0].name if users else None})
            out.append(Subject("project", f"{df.path}, VOLUME {v.path}", {**base, **f}))
    return out


def produce(project, state: Optional[DaemonState] = None) -> list[dict]:
    """Every subject's own facts (for the facts contract test)."""
    return [{k: v for k, v in s.facts.items() if k.startswith("project.")} for s in subjects(project, state, {})]
