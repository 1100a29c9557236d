"""Answers as the conversation shows them: chat lines with styles. The
command line's text and JSON forms are in voldoctor.render."""

from __future__ import annotations

import dataclasses
from typing import Optional

from voldoctor import commandline, effects
from voldoctor.conversation import Focus, Reply
from voldoctor.engine import Answer, Diagnosis
from voldoctor.facts.common import holds_data
from voldoctor.render import mark, pattern_note, plural, safe, short_volume
from voldoctor.state import Container, DaemonState


def present(a: Answer, unicode: bool, note: Optional[str] = None, restate: bool = True) -> Reply:
    """An answer as chat lines: the first cause in full, the others named."""
    r = Reply()
    if note:
        r.add(note, "warning")
    if a.daemon_down:
        err = a.state.error if a.state else None
        r.add(f"I cannot reach the Docker daemon at {safe(a.state.endpoint.url)}"
              f" ({safe(err.detail) if err else 'no reason given'}).", "error")
    if a.match.symptom and a.match.via == "state" and restate:
        r.add("Your words fit more than one problem; on the daemon I found one that fits them:", "title")
    elif a.match.symptom and a.match.via != "chosen" and restate:
        r.add(f"That sounds like: {safe(a.match.symptom.title)}.", "title")
    said = effects.of(a)
    if said:
        r.add(f"Your {a.command.kind} command, " + ("as you ran it:" if commandline.told_after(a.input, a.command.raw)
                                                    else "before you run it:"), "title")
        for e in said:
            r.add(f"  - {safe(e)}")
    for n in a.notes:
        r.add(safe(n))
    if not a.diagnoses:
        if a.state is not None and a.state.reachable:
            r.add("I looked at the daemon and found nothing wrong for this problem." if not said else
                  "I found nothing in it that would lose data or fail on this daemon.")
        if a.advice:
            r.add("Things to check:")
            for x in a.advice:
                r.add(f"  - {safe(x)}")
        return r
    show_diagnosis(r, a.diagnoses[0], unicode)
    rest = a.diagnoses[1:]
    if rest:
        n = sum(d.severity != "info" for d in rest)
        said = " and ".join(x for x in (plural(n, "other problem") if n else "",
                                        plural(len(rest) - n, "remark") if len(rest) > n else "") if x)
        r.add(f"I also found {said}: "
              + "; ".join(safe(d.title) for d in rest[:3]) + ". Ask \"what else?\" to see the next.", "dim")
    r.add("Ask \"why?\" for the reason, or say \"check again\" once you have tried the fix.", "dim")
    return r


def show_diagnosis(r: Reply, d: Diagnosis, unicode: bool) -> None:
    r.add(f"{mark(d.severity, unicode)} {safe(d.title)}", d.severity)
    r.add(f"  {safe(d.message)}")
    r.add("  Fix:")
    if note := pattern_note(d.fix):  # read before the lines are pasted
        r.add(f"    {note}", "dim")
    for x in d.fix:
        r.add(f"    {safe(x)}", "cmd")


def mounts_text(c: Container) -> str:
    """What a container mounts, in a few words."""
    return ", ".join(f"{short_volume(m.name) if m.type == 'volume' else m.source} at {m.destination}"
                     + ("" if m.rw else " (read-only)") for m in c.mounts) or "nothing (no volume, no host folder)"


def _mount_key(c: Container) -> tuple:
    return tuple(sorted((m.type, m.name or m.source, m.destination, m.rw) for m in c.mounts))


def state_changes(before: Optional[DaemonState], after: Optional[DaemonState], focus: Focus) -> list[str]:
    """What changed on the daemon between two answers, in plain words.

    Containers are compared by id: one removed and made again under the same
    name is a new container, and is said to be, with what it mounts now."""
    if before is None or after is None or not (before.reachable and after.reachable):
        return []
    out = []
    bvol, avol = {v.name: v for v in before.volumes}, {v.name: v for v in after.volumes}
    out += [f"{n} now exists." for n in sorted(set(avol) - set(bvol))]
    out += [f"{short_volume(n)} is gone" + (" (an anonymous volume)." if short_volume(n) != n else ".")
            for n in sorted(set(bvol) - set(avol))]
    for n in sorted(set(avol) & set(bvol)):  # made again: another creation time, and what it held is gone
        if avol[n].created_at and bvol[n].created_at and avol[n].created_at != bvol[n].created_at \
                and holds_data(before, n) and holds_data(after, n) is False:
            out.append(f"volume {n} was removed and made again: it is a new volume, whatever the old one held is not in it.")
    bc = {c.name: c for c in before.containers}
    ac = {c.name: c for c in after.containers}
    renamed = {c.name: bc_ for c in after.containers for bc_ in before.containers if c.id == bc_.id and c.name != bc_.name}
    for n in sorted(renamed):
        out.append(f"container {renamed[n].name} is now called {n} (the same container).")
    for n in sorted(set(ac) - set(bc) - set(renamed)):
        out.append(f"container {n} is new; it mounts {mounts_text(ac[n])}.")
    for n in sorted(set(bc) - set(ac) - {o.name for o in renamed.values()}):
        out.append(f"container {n} was removed" + (" (it was started with --rm: stopping it removed it)"
                                                    if _auto_remove(bc[n]) else "") + ".")
    for n in sorted(set(ac) & set(bc)):
        old, new = bc[n], ac[n]
        if old.id != new.id:
            out.append(f"container {n} is a new container under the same name (id {new.short_id}, was {old.short_id}); "
                       f"it now mounts {mounts_text(new)}"
                       + ("." if _mount_key(old) == _mount_key(new) else f" (the old one mounted {mounts_text(old)})."))
            continue
        if new.state != old.state:
            out.append(f"container {n} is now {new.state}.")
        if _mount_key(new) != _mount_key(old):
            out.append(f"container {n} now mounts {mounts_text(new)}.")
    if focus.container and focus.container in ac and focus.container in bc:
        c = ac[focus.container]
        old = bc[focus.container]
        if c.mounts and c.id == old.id and _mount_key(c) == _mount_key(old):
            ms = ", ".join(f"{m.name or m.source} at {m.destination}" for m in c.mounts)
            out.append(f"{focus.container} still mounts {ms}.")
    if not out:
        out.append("Nothing changed on the daemon since my last answer.")
    return out


def _auto_remove(c: Container) -> bool:
    return c.detail is not None and c.detail.auto_remove


def _anonymous(c: Container) -> list:
    return [m for m in c.mounts if m.anonymous]


def rm_warning(state: Optional[DaemonState], name: Optional[str]) -> Optional[str]:
    """A running container started with --rm that keeps data in anonymous
    volumes: stopping it deletes them. None when that is not the case."""
    c = state.container(name) if name and state is not None and state.reachable else None
    if c is None or c.state != "running" or not _auto_remove(c) or not _anonymous(c):
        return None
    where = ", ".join(m.destination for m in _anonymous(c))
    first = _anonymous(c)[0].destination
    return (f"{c.name} was started with --rm: the moment it stops (docker stop, a crash, a reboot), Docker removes it "
            f"and its anonymous volume at {where}, with everything in it. Copy the data out while it runs: "
            f"docker cp {c.name}:{first} ./rescued-data")


def vanished(before: Optional[DaemonState], after: Optional[DaemonState], name: Optional[str]) -> Optional[str]:
    """What became of the container in focus, when it is gone or was made
    again since the last look; None when it is still the same one (or
    either look saw no daemon)."""
    if not name or before is None or after is None or not (before.reachable and after.reachable):
        return None
    old, new = before.container(name), after.container(name)
    if old is None or (new is not None and new.id == old.id):
        return None
    if new is not None:
        return (f"{name} is a new container now, made under the same name (id {new.short_id}, was {old.short_id}); "
                f"it mounts {mounts_text(new)}.")
    out = f"The container {name} we were talking about is gone"
    out += ": it was started with --rm, so stopping it removed it" if _auto_remove(old) else " (removed)"
    anon = _anonymous(old)
    lost = [m for m in anon if after.volume(m.name) is None]
    kept = [m for m in anon if after.volume(m.name) is not None]
    if lost:
        out += (", and its anonymous volume went with it (" + ", ".join(f"{short_volume(m.name)} at {m.destination}"
                                                                       for m in lost)
                + "). What was in it is deleted; Docker keeps no copy")
    if kept:
        out += ". Its anonymous volume is still there: " + ", ".join(f"{short_volume(m.name)} (was at {m.destination})"
                                                                    for m in kept)
    named = [m.name for m in old.mounts if m.type == "volume" and not m.anonymous]
    if named:
        out += ". Its named volumes keep their data: " + ", ".join(named)
    out += "."
    if lost:
        out += (" Next time, give the data a named volume so it outlives the container: "
                f"docker run -v {name}-data:{lost[0].destination} ... {old.image}")
    return out


def pasted_first(rules, a: Answer) -> Answer:
    """What is found in a pasted command leads; what is found elsewhere on the daemon follows."""
    if a.command is None or not a.command.ok:
        return a
    theirs = [d for d in a.diagnoses if getattr(rules.rules.get(d.rule), "scope", "") not in ("command", "spec")]
    return dataclasses.replace(a, diagnoses=tuple(d for d in a.diagnoses if d not in theirs) + tuple(theirs))
