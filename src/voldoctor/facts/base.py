"""A fact, and which subjects carry which facts.

Each subject module (daemon, volume, container, mount, command, spec)
declares its facts next to the function that produces them. A subject carries
its own facts and those of the subjects it sits inside: a mount carries its
container's, a written mount (spec) its command's, and every subject the
daemon's and the question's.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBJECTS = ("daemon", "volume", "container", "mount", "command", "spec", "project")
CARRIES: dict[str, frozenset[str]] = {
    "daemon": frozenset({"daemon"}),
    "volume": frozenset({"volume", "daemon"}),
    "container": frozenset({"container", "daemon"}),
    "mount": frozenset({"mount", "container", "daemon"}),
    "command": frozenset({"command", "daemon"}),
    "spec": frozenset({"spec", "command", "daemon"}),
    "project": frozenset({"project", "daemon"}),  # one thing the project's files set up
}


@dataclass(frozen=True)
class Fact:
    name: str
    type: str  # bool | int | str
    doc: str
    needs: str = ""  # an extra daemon read this fact costs: "df", "images" or "changes"
    words: bool = False  # a space-separated list: each item is its own shell word in a fix line
    subject: str = ""  # set by the registry from the module that declares it
