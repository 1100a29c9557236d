"""The follow-ups "why?", "how do I fix it" and "what else could it be?",
over the conversation's last answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voldoctor import chat, engine
from voldoctor.conversation import Line, Reply
from voldoctor.render import safe
from voldoctor.symptoms import Match

if TYPE_CHECKING:
    from voldoctor.session import Session


def why(s: "Session") -> Reply:
    """"why?": the reason for the cause shown last, or the general picture."""
    a = s.last
    r = Reply()
    if a is None or not a.diagnoses:
        sym = s.rules.symptoms.get(a.match.symptom.id) if a and a.match.symptom else None
        if sym is None:
            return r.add("There is nothing to explain yet: tell me what went wrong.")
        r.add(f"I found no cause for '{safe(sym.title)}' in the daemon's state, so here is the general picture:")
        for x in sym.advice:
            r.add(f"  - {safe(x)}")
        return r.add(f"(Module: {safe(sym.source)})", "dim")
    d = a.diagnoses[max(0, s.shown - 1)]
    r.add(safe(d.why) if d.why else safe(d.message))
    ev = ", ".join(f"{k} = {engine.show(v)}" for k, v in d.evidence.items())
    r.add(f"What I saw: {safe(ev)}", "dim")
    return r.add(f"(Module: {safe(d.source)})", "dim")


def fix(s: "Session") -> Reply:
    """"how do I fix it": the fix lines of the cause shown last."""
    a = s.last
    r = Reply()
    if a is None or not a.diagnoses:
        return r.add("I have no fix to give yet: I did not find a cause. Try \"check again\" or describe it differently.")
    d = a.diagnoses[max(0, s.shown - 1)]
    r.add(f"For '{safe(d.title)}':")
    if note := chat.pattern_note(d.fix):  # read before the lines are pasted
        r.add(f"  {note}", "dim")
    for x in d.fix:
        r.add(f"  {safe(x)}", "cmd")
    return r


def other(s: "Session") -> Reply:
    """"what else?": the next cause, then the next reading of what was said."""
    a = s.last
    r = Reply()
    if a is None:
        return r.add("Tell me what went wrong first.")
    if s.shown < len(a.diagnoses):
        d = a.diagnoses[s.shown]
        s.shown += 1
        chat.show_diagnosis(r, d, s.unicode)
        return r
    # no more causes for this symptom: the next candidate symptom
    others = [c for c in a.match.candidates if not a.match.symptom or c.id != a.match.symptom.id]
    if others and s.last_question:
        text = s.last_question[0]
        c = others[0]
        prior = Match(c, tuple(others[1:]), a.match.entities, "chosen")
        r2 = s._ask(text, prior=prior)
        return Reply([Line(f"Another reading of what you said: {safe(c.title)}.", "title"), *r2.lines])
    return r.add("That is all I found. If it is still broken, paste the exact error message, "
                 "or the docker run line you used.")
