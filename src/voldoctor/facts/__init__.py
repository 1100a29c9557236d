"""The named facts that rules may test and templates may quote, gathered from
the modules that produce them (one per subject). A rule is evaluated over the
one subject that carries all of its facts; a rule whose facts no single
subject carries could never fire, and does not load."""

from __future__ import annotations

import dataclasses
from typing import Optional

from voldoctor.facts import command, container, daemon, mount, project, spec, volume
from voldoctor.facts.base import CARRIES, SUBJECTS, Fact

PRODUCERS = {m.SUBJECT: m for m in (daemon, volume, container, mount, command, spec, project)}
FACTS: dict[str, Fact] = {
    f.name: dataclasses.replace(f, subject=m.SUBJECT) for m in PRODUCERS.values() for f in m.DECLARED
}
SCOPES = SUBJECTS  # the older name


def scope_of(names) -> Optional[str]:
    """The narrowest subject that carries every named fact; None when no
    single subject does (a volume fact with a container fact, say)."""
    needed = {FACTS[n].subject for n in names if n in FACTS}
    for s in sorted(SUBJECTS, key=lambda s: len(CARRIES[s])):
        if needed <= CARRIES[s]:
            return s
    return None


__all__ = ["CARRIES", "FACTS", "Fact", "PRODUCERS", "SCOPES", "SUBJECTS", "scope_of"]
