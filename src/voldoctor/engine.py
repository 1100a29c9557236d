"""The pure engine: rules over subjects to diagnoses, and a question to an answer.

No I/O here. The daemon comes in through a `StateSource`, a function that is
given the focus picker and returns a DaemonState (live or replayed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from voldoctor import commandline, probes, shellquote
from voldoctor.commandline import ParsedCommand
from voldoctor.facts import FACTS
from voldoctor.rules import TEMPLATE_RE, Rule, RuleSet
from voldoctor.exits import Exit
from voldoctor.plan import ReadPlan, StateSource
from voldoctor.state import DaemonState
from voldoctor.symptoms import Entities, Match, Names, extract, match

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
DAEMON_SYMPTOM = "daemon-unreachable"



@dataclass(frozen=True)
class Diagnosis:
    rule: str
    severity: str
    title: str
    message: str
    why: str
    evidence: dict
    fix: tuple[str, ...]
    source: str
    subject: str


def show(value: Any) -> str:
    if value is None:
        return "(unknown)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def fill(template: str, facts: dict) -> str:
    """Put fact values into a template. Values are inserted once and never
    read as templates themselves, so a name with braces stays a name."""
    return TEMPLATE_RE.sub(lambda m: show(facts.get(m.group(1))), template)


def fill_command(template: str, facts: dict) -> str:
    """Put fact values into a fix line, each quoted with shell rules (twice
    inside `sh -c '...'`), so a crafted name or path cannot become another
    command when the line is pasted. Unknown values stay visibly unknown."""
    inner = shellquote.inside_sh_c(template)

    def one(m) -> str:
        name, value = m.group(1), facts.get(m.group(1))
        if value is None or isinstance(value, bool):
            return show(value)
        if isinstance(value, (list, tuple)):  # an argument list: each item its own word
            q = " ".join(shellquote.word(str(v)) for v in value)
            return shellquote.nested(q) if any(a <= m.start() < b for a, b in inner) else q
        fact = FACTS.get(name)
        text = str(value)
        q = shellquote.words(text) if fact is not None and fact.words else shellquote.word(text)
        if any(a <= m.start() < b for a, b in inner):
            q = shellquote.nested(q)
        return q

    return TEMPLATE_RE.sub(one, template)


def diagnose_subject(rule: Rule, subject: probes.Subject) -> Optional[Diagnosis]:
    f = subject.facts
    if not rule.fires(f):
        return None
    evidence = {k: f[k] for k in rule.facts_used if f.get(k) is not None}
    return Diagnosis(
        rule=rule.id, severity=rule.severity, title=rule.title,
        message=fill(rule.message, f), why=fill(rule.why, f) if rule.why else "",
        evidence=evidence, fix=tuple(fill_command(x, f) for x in rule.fix_for(f)), source=rule.source,
        subject=subject.label,
    )


def evaluate(rules: list[Rule], subs: dict[str, list[probes.Subject]]) -> list[Diagnosis]:
    out = []
    for rule in rules:
        for s in subs.get(rule.scope, []):
            d = diagnose_subject(rule, s)
            if d is not None:
                out.append(d)
    out.sort(key=lambda d: SEVERITY_ORDER[d.severity])  # stable: rule order within a severity
    return out


# ------------------------------------------------------------ a question


@dataclass(frozen=True)
class Answer:
    input: str
    match: Match
    entities: Entities
    diagnoses: tuple[Diagnosis, ...]
    state: Optional[DaemonState]
    offline: bool = False
    needs: Optional[str] = None  # "volume", "container" or "path" when the question lacks its target
    notes: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    checked_symptoms: tuple[str, ...] = field(default_factory=tuple)
    command: Optional[ParsedCommand] = None
    effects: tuple[str, ...] = ()  # what a pasted command will do with data, in plain words

    @property
    def daemon_down(self) -> bool:
        return not self.offline and self.state is not None and not self.state.reachable

    @property
    def exit_code(self) -> Exit:
        if self.daemon_down:
            return Exit.DAEMON
        if any(d.severity in ("error", "warning") for d in self.diagnoses):
            return Exit.PROBLEMS
        return Exit.OK


def _query(ents: Entities, volume: Optional[str], container: Optional[str], everything: bool = False,
           command: Optional[ParsedCommand] = None) -> probes.Query:
    cmd_ok = command is not None and command.ok
    vols = list(ents.volumes)
    conts = list(ents.containers)
    if cmd_ok and command.kind.startswith("volume-"):
        vols = [*command.volumes, *vols]
    if cmd_ok and command.kind == "container-rm":
        conts = [*command.containers, *conts]
    return probes.Query(
        everything=everything,
        volumes=tuple(dict.fromkeys(((volume,) if volume else ()) + tuple(v for v in vols if v != volume))),
        containers=tuple(dict.fromkeys(((container,) if container else ()) + tuple(c for c in conts if c != container))),
        paths=ents.paths,
        ports=ents.ports,
        images=ents.images,
        names=ents.names,
        command=command,
        named_container=bool(container or conts),
    )


def names_of(state: DaemonState) -> Names:
    return Names(
        volumes=tuple(v.name for v in state.volumes),
        containers=tuple(c.name for c in state.containers),
        container_ids=tuple(c.id for c in state.containers),
    )


def command_effects(cmd: Optional[ParsedCommand], state: Optional[DaemonState]) -> tuple[str, ...]:
    """What a pasted command will do with data, given the daemon's state."""
    if cmd is None or not cmd.ok:
        return ()
    seen = state is not None and state.reachable
    out = []
    if cmd.kind in ("run", "create"):
        for m in cmd.mounts:
            if m.type == "volume":
                if seen and state.volume(m.source) is None:
                    out.append(f"-v {m.raw}: creates a new, empty volume {m.source} and mounts it at {m.target}")
                else:
                    out.append(f"-v {m.raw}: mounts the volume {m.source} at {m.target}" + (" (read-only)" if m.readonly else ""))
            elif m.type == "anonymous":
                out.append(f"{m.raw}: a new anonymous volume at {m.target}, not reused by any later run"
                           + ("; deleted with the container (--rm)" if cmd.rm else ""))
            elif m.type == "bind":
                missing = seen and state.local and m.source in state.missing_paths
                out.append(f"{m.raw}: shows the host folder {m.source} at {m.target}"
                           + (" (it does not exist: Docker makes it, empty and owned by root)" if missing else ""))
        if not cmd.mounts:
            out.append("no volume or host folder: whatever the container writes goes with it when it is removed")
        if cmd.rm:
            out.append("--rm: the container is deleted as soon as it stops")
    elif cmd.kind == "volume-rm":
        out += [f"deletes the volume {v} and all the data in it, for good" for v in cmd.volumes]
    elif cmd.kind == "container-rm":
        out += [f"deletes the container {c}" + (" and its anonymous volumes (-v)" if cmd.rm else "")
                + "; its named volumes keep their data" for c in cmd.containers]
    elif cmd.kind == "volume-create":
        out += [f"creates an empty volume {v}" for v in cmd.volumes]
    return tuple(out)


def rules_for(ruleset: RuleSet, sym_ids: list[str], command: Optional[ParsedCommand]) -> list[Rule]:
    out = [r for r in ruleset.rules.values() if any(s in r.symptoms for s in sym_ids)]
    if command is not None and command.ok:
        out += [r for r in ruleset.rules.values() if r.scope in ("command", "spec") and r not in out]
    return out


def supersede(diags: list[Diagnosis], ruleset: RuleSet) -> list[Diagnosis]:
    """Drop a diagnosis that a more specific rule, firing on the same thing, replaces."""
    out = []
    for d in diags:
        beaten = False
        for other in diags:
            if d.rule in ruleset.rules[other.rule].supersedes:
                names = {str(v) for v in other.evidence.values()}
                if other.subject == d.subject or any(str(v) in names for k, v in d.evidence.items()
                                                     if k in ("volume.name", "container.name", "mount.name")):
                    beaten = True
                    break
        if not beaten:
            out.append(d)
    return out


def match_question(text: str, ruleset: RuleSet) -> Match:
    """The symptom the words say. A pasted command is read as a command, not
    as words describing a symptom, so it is left out of the matching."""
    line = commandline.command_line(text)
    words_only = text.replace(line, " ") if line else text
    return match(words_only, ruleset.symptoms) if words_only.strip() else Match(None, ())


def answer(
    text: str,
    ruleset: RuleSet,
    source: Optional[StateSource],
    *,
    volume: Optional[str] = None,
    container: Optional[str] = None,
    prior: Optional[Match] = None,
) -> Answer:
    """Answer one question. `source` None means offline: no daemon at all.
    `prior` lets a conversation supply a symptom the learner already chose."""
    line = commandline.command_line(text)
    command = commandline.parse(text) if line else None
    m = prior or match_question(text, ruleset)
    ents = m.entities
    checkup = not text.strip() and prior is None
    from_command = False
    if m.symptom is not None:
        sym_ids = [m.symptom.id]
    elif checkup:
        sym_ids = list(ruleset.symptoms)  # no words at all: a full check-up of every container
    elif command is not None and command.ok:
        sym_ids = [sid for sid, sym in ruleset.symptoms.items() if command.kind in sym.commands]
        from_command = True
    else:
        sym_ids = []
    sym_ids = [s for s in sym_ids if s in ruleset.symptoms]
    advice = tuple(a for sid in sym_ids[:1] for a in ruleset.symptoms[sid].advice) if m.symptom else ()
    notes: list[str] = []
    if command is not None and command.error:
        notes.append(command.error)
    if source is None:
        return Answer(text, m, ents, (), None, offline=True, advice=advice, checked_symptoms=tuple(sym_ids),
                      notes=tuple(notes), command=command)

    rules = [r for r in rules_for(ruleset, sym_ids, command) if not (from_command and r.reported_only)]
    want = frozenset(FACTS[f].needs for r in rules for f in r.facts_used if FACTS[f].needs)
    cmd_ok = command is not None and command.ok
    seen: dict[str, Any] = {}

    def pick(phase1: DaemonState) -> list[str]:
        e = ents.merged(extract(text, names_of(phase1)))
        q = _query(e, volume, container, checkup, command)
        seen["ents"], seen["query"] = e, q
        return [c.id for c in probes.focus(phase1, q)[0]]

    pre = _query(ents.merged(extract(text, Names())), volume, container, checkup, command)
    plan = ReadPlan(
        pick, want,
        paths=tuple(x.source for x in (command.mounts if cmd_ok else ()) if x.type == "bind" and x.source.startswith("/")),
        ports=tuple(dict.fromkeys([*(p for p, _ in (command.ports if cmd_ok else ()) if p), *ents.ports])),
        images=tuple(dict.fromkeys([*((command.image,) if cmd_ok and command.image else ()), *ents.images])),
        volumes=pre.volumes,
    )
    state = source(plan)
    if "query" not in seen and state.reachable:  # a replayed state: nothing was picked
        pick(state)
    ents = seen.get("ents", ents)
    q = seen.get("query") or pre
    if not state.reachable:
        sym_ids = [DAEMON_SYMPTOM] + [s for s in sym_ids if s != DAEMON_SYMPTOM]
        rules = [r for r in rules_for(ruleset, sym_ids, None) if r.scope == "daemon"]
    subs = probes.subjects(state, q, {r.scope for r in rules})
    diags = supersede(evaluate(rules, subs), ruleset)
    needs = None
    if state.reachable:
        for ref in q.containers:
            if state.container(ref) is None:
                notes.append(f"There is no container named {ref!r} on this daemon.")
        need = ruleset.symptoms[m.symptom.id].needs if m.symptom else "nothing"
        if need == "volume" and not q.volumes:
            needs = "volume"
        elif need == "path" and not q.paths and not diags:
            needs = "path"
        elif need == "container" and not subs.get("container") and not subs.get("mount"):
            needs = "container"
    return Answer(text, m, ents, tuple(diags), state, notes=tuple(notes), needs=needs, advice=advice,
                  checked_symptoms=tuple(sym_ids), command=command, effects=command_effects(command, state))
