"""A lab's progress as lines of text, for the command line and the conversation."""

from __future__ import annotations

from voldoctor.lab.progress import BROKEN, DONE, Progress
from voldoctor.render import safe

MARKS = {True: {DONE: "✓", "todo": "·", BROKEN: "✗"}, False: {DONE: "ok", "todo": "..", BROKEN: "!!"}}


def lines(p: Progress, unicode: bool = True) -> list[tuple[str, str]]:
    """(text, style) pairs: style is "", "info", "error", "dim", "cmd" or "title"."""
    out = [(f"Lab: {safe(p.pack.title)}  [{p.pack.id}]", "title")]
    if not p.reachable:
        out.append((f"I cannot see the daemon ({safe(p.error)}), so I cannot tell where you are.", "error"))
        return out
    for i, s in enumerate(p.steps, 1):
        mark = MARKS[unicode][s.status]
        tail = "  (only looks; does not block)" if s.look else ""
        here = "  <- you are here" if s.id == p.current else ""
        style = {"done": "info", "broken": "error"}.get(s.status, "")
        out.append((f"{mark} {i}. {safe(s.title)}  [{s.status}]{tail}{here}", style))
        for e in s.evidence:
            out.append((f"     {safe(e)}", "dim"))
        if s.status == BROKEN:
            out.append((f"     Cause: {safe(s.cause)}" + (f"  [{s.rule}]" if s.rule else ""), ""))
            if s.fix:
                out.append(("     Fix:", ""))
                out += [(f"       {safe(x)}", "cmd") for x in s.fix]
    if p.current is None:
        out.append(("Every step is done.", "info"))
    else:
        out.append(("Stuck? 'voldoctor lab hint' (or \"hint\" in the conversation) gives a hint for this step; "
                    "ask again for a bigger one.", "dim"))
    return out


def text(p: Progress, unicode: bool = True) -> str:
    return "\n".join(t for t, _ in lines(p, unicode)) + "\n"
