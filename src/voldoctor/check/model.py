"""The parts of a check: its result, its place in the tree, the context it
reads (state, endpoint, lab profile, rules). The lab profile is a lab pack's
(voldoctor.lab.pack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from voldoctor.lab.loader import load_profile  # noqa: F401 - `check --lab FILE` reads a lab pack
from voldoctor.lab.pack import LabProfile  # one file per lab: the pack carries what the checks need
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonError, DaemonState, Endpoint

if TYPE_CHECKING:
    from voldoctor.prober import Prober

STALE_AFTER = 300  # seconds: labelled probe objects older than this are leftovers of a crashed run


@dataclass
class Result:
    status: str  # pass | warn | fail | skip
    message: str
    fix: list[str] = field(default_factory=list)
    duration_ms: int = 0


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    parent: Optional[str]
    run: Callable[["Context"], Result]
    live: bool = False  # needs a live daemon (not a replay)
    limit: float = 0.0  # seconds; 0 means the --timeout


CHECKS: list[Check] = []


def check(id: str, title: str, parent: Optional[str] = None, *, live: bool = False, limit: float = 0.0):
    def deco(fn):
        CHECKS.append(Check(id, title, parent, fn, live, limit))
        return fn

    return deco


@dataclass
class Context:
    """What every check may read. The rules are given, not loaded here."""

    profile: LabProfile
    timeout: float
    rules: RuleSet
    image: Optional[str] = None
    pull: bool = False
    state: Optional[DaemonState] = None
    endpoint_error: Optional[DaemonError] = None
    endpoint: Optional[Endpoint] = None
    prober: Optional["Prober"] = None
    not_removed: list[str] = field(default_factory=list)  # scratch objects cleanup could not remove
    project: Optional[object] = None  # the project folder read with --project (or found here)

    @property
    def replay(self) -> bool:
        return self.state is not None and self.state.replay

    def get_prober(self) -> "Prober":
        if self.prober is None:
            from voldoctor import prober

            self.prober = prober.Prober(self.endpoint, self.timeout)
        return self.prober
