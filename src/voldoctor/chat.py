"""Answers as the conversation shows them: chat lines with styles. The
command line's text and JSON forms are in voldoctor.render."""

from __future__ import annotations

from typing import Optional

from voldoctor.conversation import Focus, Reply
from voldoctor.engine import Answer, Diagnosis
from voldoctor.render import mark, plural, safe
from voldoctor.state import DaemonState


def present(a: Answer, unicode: bool, note: Optional[str] = None, restate: bool = True) -> Reply:
    """An answer as chat lines: the first cause in full, the others named."""
    r = Reply()
    if note:
        r.add(note, "warning")
    if a.daemon_down:
        err = a.state.error if a.state else None
        r.add(f"I cannot reach the Docker daemon at {safe(a.state.endpoint.url)}"
              f" ({safe(err.detail) if err else 'no reason given'}).", "error")
    if a.match.symptom and a.match.via != "chosen" and restate:
        r.add(f"That sounds like: {safe(a.match.symptom.title)}.", "title")
    if a.effects:
        r.add(f"Your {a.command.kind} command, before you run it:", "title")
        for e in a.effects:
            r.add(f"  - {safe(e)}")
    for n in a.notes:
        r.add(safe(n))
    if not a.diagnoses:
        if a.state is not None and a.state.reachable:
            r.add("I looked at the daemon and found nothing wrong for this problem." if not a.effects else
                  "I found nothing in it that would lose data or fail on this daemon.")
        if a.advice:
            r.add("Things to check:")
            for x in a.advice:
                r.add(f"  - {safe(x)}")
        return r
    show_diagnosis(r, a.diagnoses[0], unicode)
    rest = a.diagnoses[1:]
    if rest:
        r.add(f"I also found {plural(len(rest), 'other problem')}: "
              + "; ".join(safe(d.title) for d in rest[:3]) + ". Ask \"what else?\" to see the next.", "dim")
    r.add("Ask \"why?\" for the reason, or say \"check again\" once you have tried the fix.", "dim")
    return r


def show_diagnosis(r: Reply, d: Diagnosis, unicode: bool) -> None:
    r.add(f"{mark(d.severity, unicode)} {safe(d.title)}", d.severity)
    r.add(f"  {safe(d.message)}")
    r.add("  Fix:")
    for x in d.fix:
        r.add(f"    {safe(x)}", "cmd")


def state_changes(before: Optional[DaemonState], after: Optional[DaemonState], focus: Focus) -> list[str]:
    """What changed on the daemon between two answers, in plain words."""
    if before is None or after is None or not (before.reachable and after.reachable):
        return []
    out = []
    bv, av = {v.name for v in before.volumes}, {v.name for v in after.volumes}
    out += [f"{n} now exists." for n in sorted(av - bv)]
    out += [f"{n} is gone." for n in sorted(bv - av)]
    bc = {c.name: c for c in before.containers}
    ac = {c.name: c for c in after.containers}
    out += [f"container {n} is new." for n in sorted(set(ac) - set(bc))]
    out += [f"container {n} was removed." for n in sorted(set(bc) - set(ac))]
    for n in sorted(set(ac) & set(bc)):
        if ac[n].state != bc[n].state:
            out.append(f"container {n} is now {ac[n].state}.")
    if focus.container and focus.container in ac:
        c = ac[focus.container]
        if c.mounts and focus.container in bc and c.mounts == bc[focus.container].mounts:
            ms = ", ".join(f"{m.name or m.source} at {m.destination}" for m in c.mounts)
            out.append(f"{focus.container} still mounts {ms}.")
    if not out:
        out.append("Nothing changed on the daemon since my last answer.")
    return out
