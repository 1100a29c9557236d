"""Lab progress in reports, and where a class is stuck: for each step of each
pack, how many machines are at it and how many have it broken."""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from voldoctor.render import safe
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonState


def progress_json(state: DaemonState, rs: RuleSet, given: Optional[dict] = None) -> dict:
    """A report's lab part: the one given (the learner's own reading), else the
    module's lab read from the state itself."""
    if given is not None:
        return given
    from voldoctor.lab import loader as pack
    from voldoctor.lab.run import of_state

    return of_state(pack.load(), state, rs).json()


def stuck(labs: list[tuple[str, dict]]) -> list[dict]:
    """Per pack step: machines at it (its current step) and machines where it
    is broken; most often broken first, then most machines at it."""
    at: dict[tuple, list[str]] = defaultdict(list)
    broken: dict[tuple, list[str]] = defaultdict(list)
    titles: dict[tuple, str] = {}
    for machine, lab in labs:
        pid = str(lab.get("pack") or "?")
        for step in lab.get("steps") or []:
            if not isinstance(step, dict):
                continue
            key = (pid, str(step.get("id")))
            titles.setdefault(key, str(step.get("title") or ""))
            if step.get("status") == "broken":
                broken[key].append(machine)
            if step.get("id") == lab.get("current"):
                at[key].append(machine)
    keys = sorted(set(at) | set(broken), key=lambda k: (-len(broken[k]), -len(at[k]), k))
    return [{"pack": k[0], "step": k[1], "title": titles[k], "broken": len(broken[k]), "current": len(at[k]),
             "machines": sorted(set(at[k]) | set(broken[k]))} for k in keys]


def stuck_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ["Where the class is stuck (broken / at this step, per lab step):"]
    for r in rows:
        names = ", ".join(safe(n) for n in r["machines"][:8]) + (" ..." if len(r["machines"]) > 8 else "")
        out.append(f"{r['broken']:>4} {r['current']:>4}  {safe(r['pack'])}/{safe(r['step']):<22} {safe(r['title'])}  "
                   f"[{names}]")
    return out
