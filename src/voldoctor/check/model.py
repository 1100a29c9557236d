"""The parts of a check: its result, its place in the tree, the context it
reads (state, endpoint, lab profile, rules) and the lab profile itself."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voldoctor.rules import RuleSet
from voldoctor.state import DaemonError, DaemonState, Endpoint

if TYPE_CHECKING:
    from voldoctor.prober import Prober

STALE_AFTER = 300  # seconds: labelled probe objects older than this are leftovers of a crashed run


class LabProfile(BaseModel):
    """What the lab needs; the module's own lab is the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    image: str = "docker/getting-started:latest"
    port: int = Field(default=8965, ge=1, le=65535)
    volume: str = "my-data"
    path: str = "/app/data"


def load_profile(path: Optional[str]) -> LabProfile:
    if not path:
        return LabProfile()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return LabProfile.model_validate(data)
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"{path}: {where}: {err['msg']}") from None


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

    @property
    def replay(self) -> bool:
        return self.state is not None and self.state.replay

    def get_prober(self) -> "Prober":
        if self.prober is None:
            from voldoctor import prober

            self.prober = prober.Prober(self.endpoint, self.timeout)
        return self.prober
