"""From a DaemonState and a question to the subjects rules run over.

Pure: no I/O. The facts of each subject come from the module that declares
them (voldoctor.facts.*); this module chooses the subjects: which
containers are in question, which mounts, the pasted command's mounts.
"""

from __future__ import annotations

import os
import posixpath
from typing import Optional

from rapidfuzz import fuzz

from voldoctor.commandline import MountSpec, ParsedCommand
from voldoctor.facts import command as command_facts
from voldoctor.facts import container as container_facts
from voldoctor.facts.container import written_folders  # noqa: F401 - the conversation asks it here
from voldoctor.facts import daemon as daemon_facts
from voldoctor.facts import mount as mount_facts
from voldoctor.facts import spec as spec_facts
from voldoctor.facts import volume as volume_facts
from voldoctor.facts.common import Query, Subject, covers, image_of
from voldoctor.state import Container, DaemonState

__all__ = ["Query", "Subject", "focus", "project_subjects", "related", "subjects"]


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
        # another app's healthy volume on the same folder must not hide the container that lost the
        # data there: the newest other container is looked at too, and kept only with evidence (wrote_under)
        return rel + [c for c in newest if c not in rel][:1], False
    return newest, True


def wrote_under(c: Container, paths: tuple[str, ...]) -> bool:
    """The container wrote files below one of the paths, outside its mounts (its layer's changes, when read)."""
    changes = c.detail.changes if c.detail is not None and c.detail.changes else ()
    return any(covers(p, ch) and not any(covers(m.destination, ch) for m in c.mounts) for p in paths for ch in changes)


def command_subjects(state: DaemonState, q: Query, base: dict) -> tuple[list[Subject], list[Subject]]:
    cmd = q.command
    if cmd is None or not cmd.ok:
        return [], []
    img = image_of(state, cmd.image) if cmd.image and state.images is not None else None
    cf = {**base, **command_facts.produce(cmd, img)}
    ivols = img.volumes if img else ()
    specs = [Subject("spec", f"command mount {m.raw}", {**cf, **spec_facts.produce(state, m, image_volumes=ivols, argv=cmd.argv)})
             for m in cmd.mounts if m.type != "tmpfs"]
    for path in (img.volumes if img else ()):
        if not any(covers(m.target, path) for m in cmd.mounts if m.target):
            ghost = MountSpec(raw=f"VOLUME {path} of {cmd.image}", type="anonymous", target=path)
            specs.append(Subject("spec", f"image volume {path}", {**cf, **spec_facts.produce(
                state, ghost, True, argv=cmd.argv, image=cmd.image)}))
    return [Subject("command", "command", cf)], specs


def subjects(state: Optional[DaemonState], q: Query, scopes: set[str]) -> dict[str, list[Subject]]:
    """The subjects for each scope asked for."""
    out: dict[str, list[Subject]] = {s: [] for s in scopes}
    if state is None:
        return out
    base = daemon_facts.produce(state, q)
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
            out["volume"].append(Subject("volume", f"volume {name}", {**base, **volume_facts.produce(state, name)}))
    if scopes & {"container", "mount"}:
        conts, fallback = focus(state, q)
        if fallback:
            # Nothing pointed anywhere: the containers that were looked at
            # closely are the leads, and only the newest for container-wide rules.
            conts = [c for c in conts if c.detail is not None] or conts[:1]
        if q.paths and not q.containers and not fallback:
            conts = [c for c in conts if related(c, q) or wrote_under(c, q.paths)]
        for i, c in enumerate(conts):
            cf = {**base, **container_facts.produce(c, q, in_question=not q.everything, state=state)}
            if "container" in scopes and (i == 0 or not fallback):
                out["container"].append(Subject("container", f"container {c.name}", cf))
            if "mount" in scopes:
                for m in c.mounts:
                    if m.type not in ("volume", "bind"):
                        continue
                    if q.paths and not any(covers(m.destination, p) for p in q.paths) and not q.named_container:
                        continue
                    out["mount"].append(Subject("mount", f"container {c.name}, mount {m.destination}",
                                                {**cf, **mount_facts.produce(state, m, cf, c)}))
    return out


def host_paths(cmd: Optional[ParsedCommand]) -> tuple[str, ...]:
    """Host paths a pasted command is about: its bind sources, and for each bare volume
    name the folder of that name here ('-v web:/app' written for the folder ./web)."""
    if cmd is None or not cmd.ok:
        return ()
    return tuple(dict.fromkeys(m.source if m.type == "bind" else os.path.join(os.getcwd(), m.source)
                               for m in cmd.mounts if m.type == "bind" and m.source.startswith("/")
                               or m.type == "volume" and m.source))


def project_subjects(project, state: Optional[DaemonState], q: Optional[Query]) -> list[Subject]:
    from voldoctor.facts import daemon as daemon_facts
    from voldoctor.facts import project as project_facts

    base = daemon_facts.produce(state, q or Query()) if state is not None and state.reachable else {}
    return project_facts.subjects(project, state, base)
