"""Hints that escalate: a nudge, then the concept and the command, then the
exact command with the learner's real names. Each ask for the same step goes
one level up; a new current step starts again at the nudge.

What a learner has asked (and the furthest step they were at) is kept per
pack in $XDG_STATE_HOME/voldoctor/lab.json, written privately through
voldoctor.files. A damaged file is replaced, with a warning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from voldoctor import shellquote
from voldoctor.lab.pack import Pack
from voldoctor.lab.progress import Progress
from voldoctor.state import DaemonState

UNKNOWN = "CONTAINER"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "voldoctor"


def filled(pack: Pack, text: str, container: Optional[str]) -> str:
    """A hint with the pack's names and the learner's container, each quoted
    for the shell. Without a container, the parts of a command that need one
    are left out (nothing to remove), or it stays visibly unknown."""
    if "{container}" in text and not container:
        parts = [p for p in text.split(" && ") if "{container}" not in p]
        text = " && ".join(parts) if parts else text
    q = {k: shellquote.word(v) for k, v in (("image", pack.image), ("volume", pack.volume),
                                            ("path", pack.path), ("port", str(pack.port)))}
    q["container"] = container or UNKNOWN
    return pack.fill(text, q)


def step_container(progress: Progress, state: Optional[DaemonState], step_id: str) -> Optional[str]:
    """The container a step's commands are about: for a clean-up, the ones
    still holding the volume; otherwise the lab's own container."""
    step = progress.pack.step(step_id)
    if step is not None and state is not None and state.reachable:
        for e in step.expect:
            if e.volume is not None and e.absent:
                users = state.volume_users().get(progress.pack.fill(e.volume), [])
                return " ".join(shellquote.word(u) for u in users) or None
    return shellquote.word(progress.container) if progress.container else None


class HintMemory:
    """Per pack: the step last hinted, its level, and the furthest step reached."""

    def __init__(self, path: Optional[Path] = None, *, persist: bool = True):
        self.path = path or state_dir() / "lab.json"
        self.persist = persist
        self.warnings: list[str] = []
        self.data: dict = self._read() if persist else {}

    def _read(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as e:
            self.warnings.append(f"cannot read {self.path} ({getattr(e, 'strerror', None) or e}); hints start over")
            return {}
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            self.warnings.append(f"{self.path} was damaged; it is replaced and hints start over")
            return {}
        return data

    def _save(self) -> None:
        if not self.persist:
            return
        from voldoctor.files import WriteError, write_private

        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n", force=True)
        except (OSError, WriteError) as e:
            self.warnings.append(f"cannot remember hints in {self.path} ({e}); they last this run only")

    def reached(self, pack_id: str) -> Optional[str]:
        v = self.data.get(pack_id, {}).get("reached")
        return v if isinstance(v, str) else None

    def note(self, progress: Progress) -> None:
        """Remember the furthest step this learner has been at."""
        if not progress.reachable:
            return
        ids = [s.id for s in progress.pack.steps]
        at = progress.current or ids[-1]
        before = self.reached(progress.pack.id)
        if before in ids and ids.index(before) >= ids.index(at):
            return
        self.data.setdefault(progress.pack.id, {})["reached"] = at
        self._save()

    def next_level(self, pack_id: str, step_id: str, *, reset: bool = False) -> int:
        entry = self.data.setdefault(pack_id, {})
        if reset:
            entry.pop("step", None)
            entry.pop("level", None)
        level = entry.get("level") if entry.get("step") == step_id else 0
        level = min(3, (level if isinstance(level, int) and 0 <= level <= 3 else 0) + 1)
        entry.update({"step": step_id, "level": level})
        self._save()
        return level

    def forget(self, pack_id: str) -> None:
        if self.data.pop(pack_id, None) is not None:
            self._save()


def hint(progress: Progress, state: Optional[DaemonState], memory: HintMemory, *, reset: bool = False) -> dict:
    """{"step", "level", "hint"} for the current step, one level up from the last ask."""
    if not progress.reachable:
        return {"step": None, "level": None, "hint": "I cannot see the daemon, so I cannot tell where you are: "
                "start Docker first (voldoctor check says what is wrong)."}
    if progress.current is None:
        return {"step": None, "level": None, "hint": f"Every step of '{progress.pack.title}' is done. Well done."}
    step = progress.pack.step(progress.current)
    level = memory.next_level(progress.pack.id, step.id, reset=reset)
    text = filled(progress.pack, step.hints[level - 1], step_container(progress, state, step.id))
    return {"step": step.id, "level": level, "hint": text}
