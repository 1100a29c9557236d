"""The pure engine: rules over subjects to diagnoses, and a question to an answer.

No I/O here. The daemon comes in through a `StateSource`, a function that is
given the focus picker and returns a DaemonState (live or replayed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from voldoctor import commandline, deletes, probes, shellquote
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
    if isinstance(value, (list, tuple)) and value and all(isinstance(x, str) for x in value):
        return " ".join(shellquote.word(x) for x in value)  # a command line as it would be typed
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
            q = " ".join(shellquote.word(v if isinstance(v, str) else str(v)) for v in value)
            return shellquote.nested(q) if any(a <= m.start() < b for a, b in inner) else q
        fact = FACTS.get(name)
        text = value if isinstance(value, str) else str(value)  # an Under path stays one: word() writes it
        q = shellquote.words(text) if fact is not None and fact.words else shellquote.word(text)
        if any(a <= m.start() < b for a, b in inner):
            q = shellquote.nested(q)
        return q

    return TEMPLATE_RE.sub(one, template)


def diagnose_subject(rule: Rule, subject: probes.Subject) -> Optional[Diagnosis]:
    f = subject.facts
    if not rule.fires(f):
        return None
    evidence = {k: shellquote.shown(f[k]) for k in rule.facts_used if f.get(k) is not None}
    lines = rule.fix_for(f)
    fix, message = tuple(fill_command(x, f) for x in lines), fill(rule.message, f)
    if f.get("container.compose") and any(isinstance(v := f.get(n), list) and v[:2] == ["docker", "run"]
                                          for x in lines for n in TEMPLATE_RE.findall(x)):  # run again with docker run
        message += (f" {f['container.name']} is the {f['container.compose']}: make the change below in its compose "
                    "file and run 'docker compose up -d' there instead of the docker run line, which would take the "
                    "name Compose needs.")
    return Diagnosis(
        rule=rule.id, severity=rule.severity, title=rule.title,
        message=message, why=fill(rule.why, f) if rule.why else "",
        evidence=evidence, fix=fix, source=rule.source,
        subject=subject.label,
    )


def evaluate(rules: list[Rule], subs: dict[str, list[probes.Subject]]) -> list[Diagnosis]:
    out = []
    for rule in rules:
        for s in subs.get(rule.scope, []):
            d = diagnose_subject(rule, s)
            if d is not None:
                out.append(d)
    first, rank = {r.id for r in rules if r.blocks}, {r.id: r.order for r in rules}  # what stops docker comes first
    out.sort(key=lambda d: (SEVERITY_ORDER[d.severity], d.rule not in first, rank[d.rule]))  # stable: else rule order
    return out


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
    clear_note: str = ""  # the symptom's words for a daemon that shows nothing for it
    checked_symptoms: tuple[str, ...] = field(default_factory=tuple)
    command: Optional[ParsedCommand] = None
    deletes: Optional[deletes.Forecast] = None  # what a pasted cleanup command would delete (see deletes.py)
    project: Any = None  # the project folder read for the question (project.Project)

    @property
    def clear_on_daemon(self) -> bool:
        """Unsure words, and the daemon shows no problem for any of the candidates it was checked for."""
        return self.match.symptom is None and bool(self.checked_symptoms) and self.state is not None \
            and self.state.reachable and not any(d.severity != "info" for d in self.diagnoses)

    @property
    def daemon_down(self) -> bool:
        return not self.offline and self.state is not None and not self.state.reachable

    @property
    def exit_code(self) -> Exit:
        if self.daemon_down:
            return Exit.DAEMON
        if any(d.severity in ("error", "warning") for d in self.diagnoses):
            return Exit.PROBLEMS
        if self.deletes is not None and self.deletes.loses_files:
            return Exit.PROBLEMS
        return Exit.OK


def _query(ents: Entities, volume: Optional[str], container: Optional[str], everything: bool = False,
           command: Optional[ParsedCommand] = None, ran: bool = False) -> probes.Query:
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
        ran=ran,
    )


def names_of(state: DaemonState) -> Names:
    return Names(
        volumes=tuple(v.name for v in state.volumes),
        containers=tuple(c.name for c in state.containers),
        container_ids=tuple(c.id for c in state.containers),
    )


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


_PROSE_WORD = re.compile(r"[A-Za-z]{3,}")


def match_question(text: str, ruleset: RuleSet, line: Optional[str] = "") -> Match:
    """The symptom the words say. A command pasted on its own is read as a
    command, not as words describing a symptom, so nothing is matched. A command
    inside words ("when I run docker run -v ... it says ...") is matched whole:
    the words around it and the command's own shape (a -v option, $(pwd)) both
    tell the symptom. `line`: the command line already found in the text, if
    the caller looked (None: there is none)."""
    if line == "":
        line = commandline.command_line(text)
    if line is None:
        return match(text, ruleset.symptoms) if text.strip() else Match(None, ())
    around = commandline.words_around(text)
    if not any(w.lower() not in ("sudo", "docker") for w in _PROSE_WORD.findall(around)):
        return Match(None, ())
    return match(text, ruleset.symptoms)


@dataclass(frozen=True)
class Question:
    """The learner's text, read once: the docker command in it (if any), and
    the symptom its words say. Everything downstream takes this value."""

    text: str
    command: Optional[ParsedCommand]
    match: Match
    cleanup: Optional[deletes.DeleteCommand] = None  # a cleanup command (rm, prune, down -v): what it deletes

    @property
    def pasted(self) -> bool:
        return self.command is not None or self.cleanup is not None

    def chosen(self, m: Match) -> "Question":
        """The same text, with the symptom the learner picked."""
        return Question(self.text, self.command, m, self.cleanup)


def read(text: str, ruleset: RuleSet, prior: Optional[Match] = None) -> Question:
    """Read the text once: the docker command in it, a cleanup command, and
    (unless the learner already chose one) the symptom its words say."""
    line = commandline.command_line(text)
    command = commandline.parse(text) if line else None
    cleanup = deletes.parse(text)
    if cleanup is not None and deletes.already_ran(text):  # "i did docker rm x and my data is gone": asks of its result
        cleanup, command = None, command if command is not None and command.kind in ("run", "create") else None
    if cleanup is not None and command is not None and not command.ok:
        command = None  # a prune or compose command: read by deletes, not by the run/volume parser
    if prior is not None:
        return Question(text, command, prior, cleanup)
    # a cleanup command is read as a command, not as words describing a symptom
    words = text.replace(deletes.find(text), " ") if cleanup is not None else text
    return Question(text, command, match_question(words, ruleset, line if cleanup is None else ""), cleanup)


LOOK_MIN = 5  # a candidate this likely (score, 0-100) is checked on the daemon when the words are not enough


def _decided_by_state(m: Match, diags: list, unsure: list[str], ruleset: RuleSet) -> tuple[Match, list, list[str]]:
    """The unsure candidate that every problem found on the daemon belongs to (the likeliest, when a rule
    serves several), as the match (via "state"), with its diagnoses; else (nothing found, or problems of
    different candidates) the match unchanged and only the diagnoses of no candidate (a check-up's, the
    daemon's own)."""
    def symptoms_of(d) -> set[str]:
        r = ruleset.rules.get(d.rule)
        return set(r.symptoms) & set(unsure) if r is not None and r.scope != "daemon" else set()

    found = [symptoms_of(d) for d in diags if d.severity != "info" and symptoms_of(d)]  # problems, not remarks
    common = set.intersection(*found) if found else set()
    if not common:
        return m, [d for d in diags if not symptoms_of(d)], unsure
    sid = next(s for s in unsure if s in common)  # unsure is in the matcher's order
    top = next(c for c in m.candidates if c.id == sid)
    rest = tuple(c for c in m.candidates if c.id != sid)
    keep = [d for d in diags if not symptoms_of(d) or sid in symptoms_of(d)]
    return Match(top, rest, m.entities, "state"), keep, [sid]


def answer(
    question: "Question | str",
    ruleset: RuleSet,
    source: Optional[StateSource],
    *,
    volume: Optional[str] = None,
    container: Optional[str] = None,
    prior: Optional[Match] = None,
    project: Any = None,
) -> Answer:
    """Answer one question (read from text here when given as text). `source`
    None means offline: no daemon at all. `prior` lets a conversation supply a
    symptom the learner already chose."""
    q = read(question, ruleset, prior) if isinstance(question, str) else question
    if prior is not None:
        q = q.chosen(prior)
    text, command, m, cleanup = q.text, q.command, q.match, q.cleanup
    ents = m.entities
    checkup = not text.strip() and prior is None and project is None
    from_command = False
    # words that fit several symptoms: the likely ones are checked on the daemon, and one
    # that alone has evidence there is the answer (the state, not a guess, decides)
    unsure = [c.id for c in m.candidates if c.score >= LOOK_MIN][:3] \
        if m.symptom is None and not m.other and source is not None and (command is None or not command.ok) \
        and cleanup is None and not checkup else []
    if m.symptom is not None:
        sym_ids = [m.symptom.id]
    elif unsure:
        sym_ids = list(unsure)
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
    project_rules = [r for r in ruleset.rules.values() if r.scope == "project"] if project is not None else []
    if m.symptom is not None:  # a named symptom: only the project's causes of it
        project_rules = [r for r in project_rules if m.symptom.id in r.symptoms]
    if source is None:
        if cleanup is not None:
            notes.append("What this command deletes depends on the daemon's state; ask again without --offline.")
        diags = evaluate(project_rules, {"project": probes.project_subjects(project, None, None)}) if project else []
        return Answer(text, m, ents, tuple(diags), None, offline=True, advice=advice, checked_symptoms=tuple(sym_ids),
                      notes=tuple(notes), command=command, project=project)

    # a rule for a reported symptom only: not for a pasted command alone, nor for a check-up with no words, nor
    # for unsure words; these also get a check-up's problems (not its remarks), which none of the candidates names
    rules = [r for r in rules_for(ruleset, list(ruleset.symptoms) if unsure else sym_ids, command)
             if not ((from_command or checkup or unsure) and r.reported_only)
             and (not unsure or r.severity != "info" or bool(set(r.symptoms) & set(sym_ids)))]
    rules += [r for r in project_rules if r not in rules]
    want = frozenset(FACTS[f].needs for r in rules for f in r.facts_used if FACTS[f].needs)
    if cleanup is not None:
        want |= {"df"} | ({"images"} if cleanup.kind in ("run-rm", "system-prune") else set())
    cmd_ok = command is not None and command.ok
    seen: dict[str, Any] = {}

    def pick(phase1: DaemonState) -> list[str]:
        e = ents.merged(extract(text, names_of(phase1)))
        q = _query(e, volume, container, checkup, command, ran)
        seen["ents"], seen["query"] = e, q
        return [c.id for c in probes.focus(phase1, q)[0]]

    def doomed(phase1: DaemonState) -> tuple[str, ...]:
        """The volumes a cleanup command would delete: look inside them (do they hold files?)."""
        if cleanup is None:
            return ()
        return tuple(n for n in deletes.candidates(cleanup, phase1, project) if phase1.volume(n) is not None)

    ran = bool(command is not None and command.ok and commandline.told_after(text, command.raw))
    pre = _query(ents.merged(extract(text, Names())), volume, container, checkup, command, ran)
    plan = ReadPlan(
        pick, want,
        paths=probes.host_paths(command),
        ports=tuple(dict.fromkeys([*(p for p, _ in (command.ports if cmd_ok else ()) if p), *ents.ports])),
        images=tuple(dict.fromkeys([*((command.image,) if cmd_ok and command.image else ()), *ents.images,
                                    *((cleanup.run.image,) if cleanup is not None and cleanup.run else ())])),
        volumes=pre.volumes,
        look_inside=doomed,
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
    if project is not None and state.reachable:
        subs["project"] = probes.project_subjects(project, state, q)
    diags = supersede(evaluate(rules, subs), ruleset)
    if unsure:
        m, diags, sym_ids = _decided_by_state(m, diags, unsure, ruleset)
        if m.symptom is not None:
            advice = ruleset.symptoms[m.symptom.id].advice
    forecast = deletes.forecast(cleanup, state, project) if cleanup is not None and state.reachable else None
    needs = None
    if state.reachable:
        for ref in q.containers:
            if state.container(ref) is None:
                notes.append(f"There is no container named {ref!r} on this daemon.")
        need = ruleset.symptoms[m.symptom.id].needs if m.symptom and m.via != "state" else "nothing"
        if need == "volume" and not q.volumes:
            needs = "volume"
        elif need == "path" and not q.paths and not diags:
            needs = "path"
        elif need == "container" and not subs.get("container") and not subs.get("mount"):
            needs = "container"
    clear = ruleset.symptoms[m.symptom.id].when_clear if m.symptom is not None and m.symptom.id in ruleset.symptoms else ""
    return Answer(text, m, ents, tuple(diags), state, notes=tuple(notes), needs=needs, advice=advice,
                  checked_symptoms=tuple(sym_ids), command=command, deletes=forecast, project=project, clear_note=clear)
