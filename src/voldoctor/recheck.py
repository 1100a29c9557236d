"""\"check again\": the same question asked of the daemon once more, and
what changed since the last look that saw it. When no daemon could be
seen, nothing is claimed fixed or unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voldoctor import chat, engine
from voldoctor.conversation import Reply
from voldoctor.engine import Answer
from voldoctor.render import mark, safe

if TYPE_CHECKING:
    from voldoctor.session import Session


def run(s: "Session") -> Reply:
    if s.last_question is None or s.last is None:
        return Reply().add("Tell me what went wrong first.")
    text, m = s.last_question
    before = s.looked or s.last  # the last answer that could see the daemon
    vol = s.focus.volume
    cont = s.focus.container
    sym = s.rules.symptoms[m.symptom.id] if m and m.symptom else None
    if sym is not None and sym.needs == "volume":
        cont = None
    after = engine.answer(text, s.rules, s.sources(), volume=vol, container=cont, prior=m, project=s.project)
    note = s._remember_state(after.state)
    r = Reply()
    remade = note is not None and after.state is not None and after.state.reachable and s.focus.container \
        and note == chat.vanished(before.state, after.state, s.focus.container) \
        and after.state.container(s.focus.container) is not None
    if note and not remade:  # a container made again under its name is told once, with the changes below
        r.add(note, "warning")
    if after.state is None or not after.state.reachable:
        return could_not_look(s, r, after)
    r.add("I looked again.")
    for line in chat.state_changes(before.state, after.state, s.focus):
        r.add(f"  {safe(line)}")
    key = lambda d: (d.rule, d.subject)  # noqa: E731
    old = {key(d): d for d in before.diagnoses}
    new = {key(d): d for d in after.diagnoses}
    fixed = [d for k, d in old.items() if k not in new]
    still = [d for k, d in new.items() if k in old]
    fresh = [d for k, d in new.items() if k not in old]
    gone = {c.name for c in before.state.containers} - {c.name for c in after.state.containers} \
        if before.state is not None and before.state.reachable else set()
    went = [d for d in fixed if d.evidence.get("container.name") in gone]
    for d in went:  # not fixed: what it was about no longer exists
        r.add(f"{mark('warning', s.unicode)} Gone, not fixed: {safe(d.title)} ({safe(d.subject)}): "
              f"{safe(d.evidence['container.name'])} no longer exists, so there is nothing left to check there.",
              "warning")
    for d in fixed:
        if d in went:
            continue
        r.add(f"{mark('info', s.unicode)} Fixed: {safe(d.title)} ({safe(d.subject)}).", "info")
    for d in still:
        said = "Still true (a remark, not a problem)" if d.severity == "info" else "Still there"
        r.add(f"{mark(d.severity, s.unicode)} {said}: {safe(d.title)} ({safe(d.subject)}).", d.severity)
    for d in fresh:
        chat.show_diagnosis(r, d, s.unicode)
    if not any(d.severity != "info" for d in after.diagnoses) and not went:
        r.add("Everything I check for this problem looks right now.")
    s.last, s.looked, s.shown = after, after, min(1, len(after.diagnoses))
    return r


def could_not_look(s: "Session", r: Reply, after: Answer) -> Reply:
    """No daemon to look at: say so, and claim nothing fixed or unchanged.
    The last real look stays the one the next "check again" compares with."""
    if after.state is None:
        r.add("I am offline: I did not look at any daemon, so I cannot tell what is fixed and what is not.")
    else:
        err = after.state.error
        r.add(f"I could not look: the daemon at {safe(after.state.endpoint.url)} does not answer"
              f" ({safe(err.detail) if err else 'no reason given'}). I cannot tell what is fixed and what "
              "is not until it answers again.", "error")
        for d in after.diagnoses[:1]:
            chat.show_diagnosis(r, d, s.unicode)
    r.add("Say \"check again\" once the daemon answers; I will compare with what I saw last time.", "dim")
    if s.looked is None and s.last is not None and s.last.state is not None and s.last.state.reachable:
        s.looked = s.last
    s.last, s.shown = after, min(1, len(after.diagnoses))
    return r
