"""One look at a lab: read the daemon with what the pack needs, look inside
its volumes, and say where the learner is. Shared by `voldoctor lab`, the
conversation's /lab, reports and the demo."""

from __future__ import annotations

from typing import Optional

from voldoctor.lab import causes, looks
from voldoctor.lab.hints import HintMemory
from voldoctor.lab.pack import Pack, split_mount
from voldoctor.lab.progress import Looks, Progress, evaluate, mounts, runs
from voldoctor.plan import ReadPlan, StateSource
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonState


def images_of(pack: Pack) -> list[str]:
    return list(dict.fromkeys(pack.fill(e.container.image) for s in pack.steps for e in s.expect
                              if e.container is not None))


def mounts_of(pack: Pack) -> list[str]:
    return list(dict.fromkeys(pack.fill(e.container.mount) for s in pack.steps for e in s.expect
                              if e.container is not None and e.container.mount))


def plan_for(pack: Pack) -> ReadPlan:
    """The containers that run the lab's images or mount its volumes are looked at closely, newest first."""
    imgs, specs = images_of(pack), mounts_of(pack)

    def pick(state: DaemonState) -> list[str]:
        mine = [c for c in state.containers if any(runs(c, i, state) for i in imgs) or any(mounts(c, m) for m in specs)]
        return [c.id for c in sorted(mine, key=lambda c: (c.state != "running", -c.created))]

    vols = tuple(dict.fromkeys([pack.volume, *(split_mount(m)[0] for m in specs)]))
    return ReadPlan(pick, frozenset({"images"}), volumes=vols[:1])


def progress(pack: Pack, source: StateSource, rules: Optional[RuleSet], *, memory: Optional[HintMemory] = None,
             timeout: float = 10.0, look: bool = True) -> tuple[Progress, DaemonState]:
    """Where the learner is, and the state it was read from. `memory` gives
    (and is told) the furthest step reached."""
    state = source(plan_for(pack))
    seen = looks.look(pack, state, timeout) if look else Looks()
    reached = memory.reached(pack.id) if memory is not None else None
    p = evaluate(pack, state, seen, reached=reached, causes=causes.make(rules, state, pack))
    if memory is not None:
        memory.note(p)
    return p, state


def of_state(pack: Pack, state: DaemonState, rules: Optional[RuleSet]) -> Progress:
    """Progress on a saved state (a report, a demo): nothing more is read."""
    return evaluate(pack, state, Looks(), causes=causes.make(rules, state, pack))
