"""The lab in the conversation: /lab and /hint, and the follow-ups "hint",
"what's next?" and "where am I?". Hints escalate across the conversation and
the command line alike (one memory per pack)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from voldoctor.conversation import Reply, command
from voldoctor.render import safe

if TYPE_CHECKING:
    from voldoctor.session import Session

FOLLOW_UPS = {
    "hint": ["hint", "give me a hint", "a hint please", "another hint", "i need a hint", "bigger hint",
             "more help", "hint please", "can i have a hint"],
    "where": ["where am i", "what's next", "whats next", "what is next", "what do i do next", "what now",
              "which step am i on", "where am i in the lab", "next step", "lab progress", "what step am i at"],
}


def _memory(s: Session):
    from voldoctor.lab.hints import HintMemory

    mem: Optional[HintMemory] = getattr(s, "lab_hints", None)
    if mem is None:
        mem = s.lab_hints = HintMemory()
    return mem


def _look(s: Session):
    from voldoctor.lab import loader as packs
    from voldoctor.lab.run import progress

    src = s.sources()
    if src is None:
        return None, None
    pack = getattr(s, "lab_pack", None) or packs.load()
    p, state = progress(pack, src, s.rules, memory=_memory(s))
    s._remember_state(state)
    return p, state


def _warnings(s: Session, r: Reply) -> Reply:
    mem = _memory(s)
    for w in mem.warnings:
        r.add(safe(w), "warning")
    mem.warnings.clear()
    return r


OFFLINE = "Offline: I am not looking at any daemon, so I cannot tell where you are in the lab."


@command("lab", "", "where you are in the lab: each step done, todo or broken")
def show_lab(s: Session, arg: str = "") -> Reply:
    from voldoctor.lab import view

    p, _ = _look(s)
    if p is None:
        return Reply().add(OFFLINE)
    r = Reply()
    for text, style in view.lines(p, s.unicode):
        r.add(text, style)
    return _warnings(s, r)


@command("hint", "", "a hint for your current lab step; ask again for a bigger one")
def show_hint(s: Session, arg: str = "") -> Reply:
    from voldoctor.lab.hints import hint

    p, state = _look(s)
    if p is None:
        return Reply().add(OFFLINE)
    h = hint(p, state, _memory(s), reset=arg.strip() == "--reset")
    r = Reply()
    if h["step"] is None:
        r.add(safe(h["hint"]))
    else:
        step = p.pack.step(h["step"])
        r.add(f"Hint {h['level']} of 3 for '{safe(p.pack.fill(step.title))}':", "title")
        r.add(f"  {safe(h['hint'])}", "cmd" if h["level"] == 3 else "")
        if h["level"] < 3:
            r.add("Say \"hint\" again for a bigger one.", "dim")
    return _warnings(s, r)


def follow_up(s: Session, kind: str) -> Reply:
    return show_hint(s) if kind == "hint" else show_lab(s)
