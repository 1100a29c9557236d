"""Why a lab step is broken, in the rules' own words: the same finding a
learner gets from `diagnose` for the same mistake.

A container that was run wrongly is asked about twice: first as the command
that made it, checked against the daemon as it was before that command (a
typo'd volume is then "this command would create a new, empty volume"), then
as the data problem it leads to, with the container named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from voldoctor import engine, shellquote
from voldoctor.lab.pack import Pack, Step, split_mount
from voldoctor.lab.progress import Seen
from voldoctor.rules import RuleSet
from voldoctor.state import Container, DaemonState

PROBLEMS = ("error", "warning")


def _created(text: str) -> Optional[float]:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def run_command(c: Container) -> str:
    """The docker run line that would make this container, as far as its list entry tells."""
    words = ["docker", "run", "-d"]
    for p in c.ports:
        if p.public:
            words += ["-p", f"{p.public}:{p.private}"]
    for m in c.mounts:
        if m.type == "volume" and m.anonymous:
            words += ["-v", m.destination]
        elif m.type in ("volume", "bind"):
            words += ["-v", f"{m.name if m.type == 'volume' else m.source}:{m.destination}" + ("" if m.rw else ":ro")]
    words.append(c.image)
    return " ".join(shellquote.word(w) for w in words)


def before_run(state: DaemonState, c: Container) -> DaemonState:
    """The state as it was before this container was run: without it, without
    the volumes its run made (used by it alone, made with it) and without those made after it."""
    users = state.volume_users()
    made = set()
    for m in c.mounts:
        v = state.volume(m.name) if m.type == "volume" else None
        t = _created(v.created_at) if v is not None else None
        if v is not None and users.get(v.name) == [c.name] and (t is None or t >= c.created - 2):
            made.add(v.name)
    # volumes made after it did not exist when its command ran (course-db made after a run on course_db)
    made |= {v.name for v in state.volumes if (t := _created(v.created_at)) is not None and t > c.created + 2}
    return state.model_copy(update={"containers": tuple(x for x in state.containers if x.id != c.id),
                                    "volumes": tuple(v for v in state.volumes if v.name not in made)})


def _first(a: engine.Answer) -> Optional[engine.Diagnosis]:
    return next((d for d in a.diagnoses if d.severity in PROBLEMS), None)


def container_cause(rules: RuleSet, state: DaemonState, c: Container, pack: Pack, mount: Optional[str]):
    pre = before_run(state, c)
    d = _first(engine.answer(run_command(c), rules, lambda plan: pre))
    if d is None:
        path = split_mount(pack.fill(mount))[1] if mount else pack.path
        d = _first(engine.answer(f"data in {path} is gone after docker rm", rules, lambda plan: state,
                                 container=c.name))
    return d


def volume_cause(rules: RuleSet, state: DaemonState, name: str):
    return _first(engine.answer("volume not found", rules, lambda plan: state, volume=name))


def make(rules: Optional[RuleSet], state: DaemonState, pack: Pack):
    """causes(step, seen) -> (rule, cause, fix lines) for progress.evaluate."""

    def causes(step: Step, seen: Seen) -> tuple[str, str, tuple[str, ...]]:
        d = None
        if rules is not None:
            e = next((e for e in step.expect if e.container is not None and not e.absent), None)
            if seen.attempt is not None and e is not None:
                d = container_cause(rules, state, seen.attempt, pack, e.container.mount)
            else:
                v = next((e.volume for e in step.expect if e.volume is not None and not e.absent), None)
                if v is not None:
                    d = volume_cause(rules, state, pack.fill(v))
        if d is not None:
            return d.rule, d.message, d.fix
        from voldoctor.lab.hints import filled

        fix = (filled(pack, step.hints[2], shellquote.word(seen.attempt.name) if seen.attempt else None),)
        return "", seen.cause or seen.evidence, fix

    return causes
