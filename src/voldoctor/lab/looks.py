"""A look inside the volumes a lab pack names: which files are there, what
they hold, and how old the oldest is. On a local daemon the volume's
Mountpoint is read on this machine; elsewhere one labelled, read-only helper
container does it (voldoctor.prober), apart from the question's own reads.
"""

from __future__ import annotations

import base64
import os
from typing import Optional

from voldoctor import shellquote
from voldoctor.lab.pack import Pack, split_mount
from voldoctor.lab.progress import Looks
from voldoctor.state import DaemonState

READ_LIMIT = 64 * 1024
SCAN_LIMIT = 200


def wanted(pack: Pack, state: DaemonState) -> dict[str, list[str]]:
    """Volume -> paths inside it that the pack asks about (the volume's own age is always read)."""
    out: dict[str, list[str]] = {}
    for step in pack.steps:
        for e in step.expect:
            if e.file is not None:
                vol, path = split_mount(pack.fill(e.file))
                out.setdefault(vol, []).append(path)
            elif e.container is not None and e.container.data_from_before and e.container.mount:
                out.setdefault(split_mount(pack.fill(e.container.mount))[0], [])
    return {v: p for v, p in out.items() if state.volume(v) is not None}


def _read_inside(root: str, path: str) -> Optional[str]:
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, path.lstrip("/")))
    if not target.startswith(real_root + os.sep):
        return None  # a link out of the volume is not the volume's file
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not os.path.isfile(target):
            return None
        return fh.read(READ_LIMIT).decode("utf-8", "replace")


def _oldest(root: str) -> Optional[float]:
    times = []
    with os.scandir(root) as it:
        for _, e in zip(range(SCAN_LIMIT), it):
            times.append(e.stat(follow_symlinks=False).st_mtime)
    return min(times) if times else None


def local(pack: Pack, state: DaemonState, want: dict[str, list[str]]) -> tuple[Looks, list[str]]:
    """What can be read on this machine; and the volumes it could not see."""
    visible, oldest, files, unseen = set(), {}, {}, []
    for vol, paths in want.items():
        mp = state.volume(vol).mountpoint
        if not (state.local and mp and os.path.isdir(mp)):
            unseen.append(vol)
            continue
        try:
            oldest[vol] = _oldest(mp)
        except OSError:
            unseen.append(vol)
            continue
        visible.add(vol)
        for p in paths:
            files[f"{vol}:{p}"] = _read_inside(mp, p)
    return Looks(frozenset(visible), oldest, files), unseen


def helper_script(paths: list[str]) -> str:
    lines = ["cd /v || exit 3",
             f"o=$(ls -A | head -n {SCAN_LIMIT} | while read -r f; do stat -c %Y \"$f\"; done | sort -n | head -n 1)",
             'echo "oldest ${o:-none}"']
    for p in paths:
        q = shellquote.word("/v" + p)
        lines.append(f"if [ -f {q} ] && [ ! -L {q} ]; then printf 'file '; head -c {READ_LIMIT} {q} | base64 | "
                     "tr -d '\\n'; echo; else echo nofile; fi")
    return "\n".join(lines)


def parse_helper(vol: str, paths: list[str], out: str) -> tuple[Optional[float], dict[str, Optional[str]]]:
    lines = out.splitlines()
    first = lines[0].split() if lines else []
    if len(first) != 2 or first[0] != "oldest":
        raise ValueError("unexpected helper output")
    oldest = None if first[1] == "none" else float(first[1])
    files: dict[str, Optional[str]] = {}
    for p, line in zip(paths, lines[1:]):
        files[f"{vol}:{p}"] = base64.b64decode(line[5:]).decode("utf-8", "replace") if line.startswith("file ") else None
    return oldest, files


def through_helper(state: DaemonState, want: dict[str, list[str]], vols: list[str], timeout: float) -> Looks:
    """Look into volumes out of this machine's sight with a helper container
    (an image already on the daemon; never pulled). Unseen stays unseen."""
    from voldoctor.daemon_facts import helper_image
    from voldoctor.prober import ProbeError, Prober

    img = helper_image(state.images or ())
    if img is None or not vols:
        return Looks()
    visible, oldest, files = set(), {}, {}
    try:
        pr = Prober(state.endpoint, timeout)
    except ProbeError:
        return Looks()
    try:
        for vol in vols:
            try:
                code, out = pr.run(img, helper_script(want[vol]), binds=[f"{vol}:/v:ro"], seconds=timeout)
                if code != 0:
                    continue
                oldest[vol], got = parse_helper(vol, want[vol], out)
            except (ProbeError, ValueError):
                continue
            visible.add(vol)
            files.update(got)
    finally:
        pr.cleanup()
        pr.close()
    return Looks(frozenset(visible), oldest, files)


def look(pack: Pack, state: DaemonState, timeout: float = 10.0) -> Looks:
    """Everything the pack needs seen inside volumes. A replayed state is not looked into."""
    if not state.reachable or state.replay:
        return Looks()
    want = wanted(pack, state)
    seen, unseen = local(pack, state, want)
    if not unseen:
        return seen
    more = through_helper(state, want, unseen, timeout)
    return Looks(seen.visible | more.visible, {**seen.oldest, **more.oldest}, {**seen.files, **more.files})
