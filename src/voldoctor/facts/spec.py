"""Facts about one mount written in a pasted command (or an image VOLUME it leaves unnamed)."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Optional

from voldoctor.commandline import MountSpec
from voldoctor.facts.base import Fact
from voldoctor.facts.common import api_at_least, covers, near_misses
from voldoctor.state import DaemonState

SUBJECT = "spec"
DECLARED = [
    Fact("spec.raw", "str", "one mount of the pasted command, as written"),
    Fact("spec.type", "str", "volume, bind, anonymous or tmpfs"),
    Fact("spec.source", "str", "the volume name or host path"),
    Fact("spec.target", "str", "the path inside the container"),
    Fact("spec.ro", "bool", "mounted read-only"),
    Fact("spec.problem", "str", "what is wrong with how the mount is written"),
    Fact("spec.corrected", "str", "the mount written correctly"),
    Fact("spec.command_corrected", "argv", "the whole pasted command with this mount written correctly"),
    Fact("spec.volume_exists", "bool", "the named volume exists already"),
    Fact("spec.near_miss", "str", "an existing volume whose name is close to this one"),
    Fact("spec.folder_here", "str", "a folder on this machine named like the volume (the one the learner most likely "
         "meant, when a bare name was written for it)"),
    Fact("spec.command_folder", "argv", "the whole pasted command with spec.folder_here mounted instead of the volume"),
    Fact("spec.command_near", "argv", "the whole pasted command with spec.near_miss as this mount's volume"),
    Fact("spec.named_volume", "str", "a name for this anonymous mount's volume, after the folder, that no volume "
         "has yet"),
    Fact("spec.command_named", "argv", "the whole pasted command with spec.named_volume mounted at this anonymous "
         "mount's path"),
    Fact("spec.near_source", "str", "the bind source missing, a sibling a slip away exists (./sites for ./site): "
         "that path, written as the command wrote its own"),
    Fact("spec.command_near_source", "argv", "the whole pasted command with spec.near_source as this mount's source"),
    Fact("spec.source_exists", "bool", "the bind mount's host path exists (when visible here)"),
    Fact("spec.image_volume", "bool", "not written in the command: a VOLUME the image declares, left unnamed"),
    Fact("spec.writes_expected", "bool", "the target is where the app keeps data (an image VOLUME, or a data-like "
         "folder such as /app/data or /var/lib/mysql)", "images"),
]


GENERIC = frozenset("data db database storage files uploads".split())  # a folder name that says whose only with its parent
DATA_NAMES = frozenset("data db database storage uploads files mysql postgresql pgdata mongodb redis www html logs".split())


def writes_expected(target: str, image_volumes: tuple[str, ...]) -> bool:
    """The path is where an app keeps what it writes."""
    if any(covers(v, target) or covers(target, v) for v in image_volumes):
        return True
    return any(part in DATA_NAMES for part in target.lower().split("/"))


def with_name(argv: tuple[str, ...], spec: MountSpec, name: str) -> Optional[tuple[str, ...]]:
    """The command again with the anonymous mount `spec` given the volume `name` (one word changed)."""
    return _rewritten(argv, spec, f"source={name},{spec.raw}" if spec.flag == "--mount" else f"{name}:{spec.raw}")


def with_source(argv: tuple[str, ...], spec: MountSpec, source: str) -> Optional[tuple[str, ...]]:
    """The command again with the mount `spec` taking `source` instead of its own
    (one word changed), or None when that word is not found as written."""
    if not spec.source:
        return None
    if spec.flag == "-v" and spec.raw.startswith(spec.source):
        new = source + spec.raw[len(spec.source):]
    elif spec.flag == "--mount":
        new = re.sub(r"(^|,)(source|src)=" + re.escape(spec.source) + r"(?=,|$)",
                     lambda m: f"{m.group(1)}{m.group(2)}={source}", spec.raw, count=1)
        if new == spec.raw:
            return None
    else:
        return None
    return _rewritten(argv, spec, new)


def _rewritten(argv: tuple[str, ...], spec: MountSpec, new: str) -> Optional[tuple[str, ...]]:
    """The command with the word that writes the mount `spec` written `new` instead (None when not found)."""
    out = list(argv)
    for i, tok in enumerate(out):
        if tok.endswith(spec.raw) and (tok == spec.raw or tok[:-len(spec.raw)] in ("-v", "-v=", "--volume=", "--mount=")):
            out[i] = tok[:-len(spec.raw)] + new
            return tuple(out)
    return None


def produce(state: DaemonState, spec: MountSpec, image_volume: bool = False,
               image_volumes: tuple[str, ...] = (), argv: tuple[str, ...] = (), image: str = "") -> dict:
    problem = spec.problem
    if problem and problem.startswith("a Windows path") and state.info.desktop:
        problem = None  # Docker Desktop's CLI turns Windows paths into ones its VM understands
    if problem and problem.startswith("a relative host path") and spec.source.startswith(".") and api_at_least(state, (1, 42), unknown=False):
        problem = None  # the CLI of Engine 23 and later reads ./x from the current folder (an older one: a volume name)
    vol_exists = near = None
    if spec.type == "volume" and spec.source:
        vol_exists = state.volume(spec.source) is not None
        if not vol_exists:
            misses = near_misses(spec.source, [v.name for v in state.volumes])
            near = misses[0] if misses else None
    folder = None
    if spec.type == "volume" and spec.source and state.local:
        folder = next((p for p, st in sorted(state.path_stats.items()) if st.is_dir
                       and posixpath.basename(p.rstrip("/")) == spec.source), None)
    named = named_argv = None
    if spec.type == "anonymous" and spec.target.startswith("/") and argv:
        parent, base = posixpath.split(spec.target.rstrip("/"))
        stem = (f"{posixpath.basename(parent)}-{base}" if parent.strip("/") else base) if base in GENERIC \
            else f"{base}-data"  # /app/data: app-data; /var/lib/mysql: mysql-data
        named = next(n for n in (stem, *(f"{stem}-{i}" for i in range(2, 100))) if state.volume(n) is None)
        if image_volume:
            at = len(argv) - 1 - list(reversed(argv)).index(image) if image in argv else None
            named_argv = (*argv[:at], "-v", f"{named}:{spec.target}", *argv[at:]) if at else None
        else:
            named_argv = with_name(argv, spec, named)
    near_src = None
    if spec.type == "bind" and spec.source and state.local:
        where = spec.source if spec.source.startswith("/") else posixpath.normpath(posixpath.join(os.getcwd(), spec.source))
        found = state.near_paths.get(where)
        near_src = posixpath.join(posixpath.dirname(spec.source), posixpath.basename(found)) if found else None
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
        "spec.command_corrected": [spec.corrected if w == spec.raw else w for w in argv]
        if problem and spec.corrected and spec.raw in argv and not spec.corrected.startswith("(") else None,
        "spec.volume_exists": vol_exists,
        "spec.near_miss": near,
        "spec.folder_here": folder,
        "spec.command_folder": list(with_source(argv, spec, folder) or ()) or None if folder and argv else None,
        "spec.command_near": list(with_source(argv, spec, near) or ()) or None if near and argv else None,
        "spec.source_exists": src_exists,
        "spec.near_source": near_src,
        "spec.command_near_source": list(with_source(argv, spec, near_src) or ()) or None if near_src and argv else None,
        "spec.named_volume": named,
        "spec.command_named": list(named_argv) if named_argv else None,
        "spec.image_volume": image_volume,
        "spec.writes_expected": writes_expected(spec.target, image_volumes) if spec.target.startswith("/") else None,
    }
