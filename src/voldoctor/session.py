"""The conversation, as a pure object: handle(text) -> Reply.

It keeps what the learner is talking about (volume, container, data path),
asks when it is not sure, answers follow-ups ("why?", "how do I fix it",
"what else could it be?", "check again") and notices when the daemon goes
away or comes back. It knows nothing of terminals: the REPL and the tests
drive it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from rapidfuzz import fuzz, process, utils

from voldoctor import commandline, engine
from voldoctor.engine import Answer, Diagnosis
from voldoctor.render import mark, plural, safe, short_volume
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonState
from voldoctor.symptoms import Candidate, Match

SourceFactory = Callable[[], Optional[engine.StateSource]]

FOLLOW_UPS = {
    "why": ["why", "why is that", "why does this happen", "explain", "what does that mean", "how come",
            "i don't understand", "why?"],
    "fix": ["how do i fix it", "how do i fix this", "show me the command", "what should i do", "fix",
            "what command", "how to fix", "give me the fix", "what do i run"],
    "else": ["what else could it be", "something else", "not that", "other causes", "anything else",
             "that's not it", "what else", "next"],
    "recheck": ["check again", "i did that", "still broken", "try again", "recheck", "done", "i fixed it",
                "it still doesn't work", "did it work", "again", "i created it", "still not working"],
}
FOLLOW_UP_CUTOFF = 86


@dataclass(frozen=True)
class Line:
    text: str
    style: str = ""  # "", "error", "warning", "info", "dim", "cmd", "title"


@dataclass
class Reply:
    lines: list[Line] = field(default_factory=list)
    quit: bool = False

    def add(self, text: str = "", style: str = "") -> "Reply":
        self.lines.append(Line(text, style))
        return self

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass
class Pending:
    kind: str  # "symptom" (choose a candidate) or "volume" / "container" / "path" (name a target)
    text: str  # the question that led here
    options: list[str]
    candidates: tuple[Candidate, ...] = ()


@dataclass
class Focus:
    volume: Optional[str] = None
    container: Optional[str] = None
    path: Optional[str] = None

    def describe(self) -> str:
        bits = [f"volume {self.volume}" if self.volume else "", f"container {self.container}" if self.container else "",
                f"path {self.path}" if self.path else ""]
        return ", ".join(b for b in bits if b) or "nothing yet"


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[["Session", str], Reply]


COMMANDS: dict[str, Command] = {}


def command(name: str, args: str, help: str):
    def deco(fn):
        COMMANDS[name] = Command(name, args, help, fn)
        return fn

    return deco


class Session:
    def __init__(self, ruleset: RuleSet, sources: SourceFactory, *, unicode: bool = True, project=None):
        self.rules = ruleset
        self.sources = sources
        self.project = project  # the project folder the conversation is about (--project), if any
        self.unicode = unicode
        self.focus = Focus()
        self.recent: dict[str, list[str]] = {"volume": [], "container": []}
        self.pending: Optional[Pending] = None
        self.last: Optional[Answer] = None
        self.last_question: Optional[tuple[str, Optional[Match]]] = None
        self.shown = 0  # how many of last.diagnoses have been shown in full
        self.state: Optional[DaemonState] = None
        self.turn = 0
        self.state_turn = -1
        self.transcript: list[tuple[str, str, tuple[str, ...]]] = []  # (learner, answer, rules found)
        self.reporter: Optional[Callable[["Session", str], Reply]] = None  # set by the REPL: it writes files

    # ------------------------------------------------------------ state

    def read_state(self) -> Optional[DaemonState]:
        """The daemon's state for this turn, read at most once per turn."""
        if self.state_turn == self.turn and self.state is not None:
            return self.state
        src = self.sources()
        if src is None:
            return None
        self._remember_state(src(lambda s: []))
        return self.state

    def _remember_state(self, st: Optional[DaemonState]) -> Optional[str]:
        """Keep the newest state; say so when the daemon went away or came back."""
        before = self.state
        self.state, self.state_turn = st, self.turn
        if st is None or before is None or before.reachable == st.reachable:
            return None
        if st.reachable:
            return "The daemon answers again."
        return f"The daemon stopped answering ({safe(st.error.detail) if st.error else 'unknown reason'})."

    def names(self, kind: str) -> list[str]:
        """Volume or container names for completion and choices, recent ones first."""
        st = self.state if self.state is not None else self.read_state()
        have: list[str] = []
        if st is not None and st.reachable:
            if kind == "volume":
                have = [v.name for v in sorted(st.volumes, key=lambda v: v.created_at, reverse=True)]
            else:
                have = [c.name for c in sorted(st.containers, key=lambda c: -c.created)]
        return list(dict.fromkeys([*self.recent[kind], *have]))

    def paths(self) -> list[str]:
        """Likely data paths: the focus, the mount points of containers, the lab's own."""
        st = self.state
        found = [self.focus.path] if self.focus.path else []
        if st is not None and st.reachable:
            for c in sorted(st.containers, key=lambda c: -c.created):
                found += [m.destination for m in c.mounts]
        return list(dict.fromkeys([*found, "/app/data"]))

    def _use(self, kind: str, name: Optional[str]) -> None:
        if not name:
            return
        lst = self.recent[kind]
        if name in lst:
            lst.remove(name)
        lst.insert(0, name)
        setattr(self.focus, kind, name)

    # ------------------------------------------------------------ turns

    def handle(self, text: str) -> Reply:
        self.turn += 1
        text = text.strip()
        if not text:
            return Reply()
        before = self.last
        try:
            reply = self._handle(text)
        except Exception as e:  # a bug in one turn must not end the conversation
            reply = Reply().add(f"Sorry, something went wrong on my side ({type(e).__name__}: {safe(e)}). "
                                "You can keep going; /reset starts afresh.", "error")
        found = tuple(d.rule for d in self.last.diagnoses) if self.last is not None and self.last is not before else ()
        self.transcript.append((text, reply.text, found))
        return reply

    def _handle(self, text: str) -> Reply:
        if text.startswith("/") and "/" not in text.split()[0][1:]:  # "/app/data" is a path, not a command
            name, _, arg = text[1:].partition(" ")
            cmd = COMMANDS.get(name.lower())
            if cmd is None:
                hit = process.extractOne(name, list(COMMANDS), scorer=fuzz.ratio, score_cutoff=60)
                hint = f" Did you mean /{hit[0]}?" if hit else ""
                return Reply().add(f"There is no /{safe(name)} command.{hint} /help lists them.")
            return cmd.run(self, arg.strip())
        if self.pending is not None:
            r = self._answer_pending(text)
            if r is not None:
                return r
        kind = self._follow_up(text)
        if kind is not None:
            if self.last is None:
                return Reply().add("Tell me first what went wrong: a symptom in your words, an error message, "
                                   "or the docker command you ran.")
            return {"why": self._why, "fix": self._fix, "else": self._else, "recheck": self._recheck}[kind]()
        return self._ask(text)

    def _follow_up(self, text: str) -> Optional[str]:
        if len(text) > 60:
            return None
        t = utils.default_process(text)
        best, best_kind = 0.0, None
        for kind, phrases in FOLLOW_UPS.items():
            hit = process.extractOne(t, phrases, scorer=fuzz.ratio, processor=None, score_cutoff=FOLLOW_UP_CUTOFF)
            if hit and hit[1] > best:
                best, best_kind = hit[1], kind
        return best_kind

    # ------------------------------------------------------------ asking

    def _ask(self, text: str, prior: Optional[Match] = None, *, volume: Optional[str] = None,
             container: Optional[str] = None, restate: bool = True) -> Reply:
        src = self.sources()
        m = prior or engine.match_question(text, self.rules)
        pasted = commandline.command_line(text) is not None
        if m.symptom is None and pasted:
            return self._present_command(text, m, src)
        if m.symptom is None:
            if not m.candidates:
                return Reply().add("I could not tell which volume problem that is. Paste the error exactly as "
                                   "Docker printed it, or say what you expected and what happened.") \
                    .add("Examples: 'volume not found', 'permission denied writing /app/data', "
                         "'my data is gone after docker rm'.", "dim")
            self.pending = Pending("symptom", text, [c.id for c in m.candidates], m.candidates)
            r = Reply().add("I am not sure which problem you mean. Did you mean:")
            for i, c in enumerate(m.candidates, 1):
                r.add(f"  {i}. {safe(c.title)}")
            return r.add("Answer with a number, or say it in other words.", "dim")
        sym = self.rules.symptoms[m.symptom.id]
        vol = volume or (m.entities.volumes[0] if m.entities.volumes else None)
        cont = container or (m.entities.containers[0] if m.entities.containers else None)
        if sym.needs == "volume" and vol is None:
            vol = self.focus.volume
        if cont is None and self.focus.container and sym.needs != "volume" and not m.entities.paths:
            cont = self.focus.container
        a = engine.answer(text, self.rules, src, volume=vol, container=cont, prior=m, project=self.project)
        note = self._remember_state(a.state)
        if a.needs == "path":
            self.pending = Pending("path", text, self.paths(), m.candidates)
            r = Reply()
            if note:
                r.add(note, "warning")
            r.add(f"{safe(sym.title)}. Which folder inside the container holds the data your app writes?")
            for i, n in enumerate(self.pending.options[:6], 1):
                r.add(f"  {i}. {safe(n)}")
            return r.add("Give a number or a path such as /app/data.", "dim")
        if a.needs in ("volume", "container"):
            self.pending = Pending(a.needs, text, self.names(a.needs), m.candidates)
            r = Reply()
            if note:
                r.add(note, "warning")
            r.add(f"{safe(sym.title)}. Which {a.needs} is it about?")
            opts = self.pending.options[:6]
            for i, n in enumerate(opts, 1):
                r.add(f"  {i}. {safe(n)}")
            hint = "Give a number or a name" + (" (Tab completes names)." if opts else ".")
            return r.add(hint, "dim")
        self.pending = None
        self.last, self.last_question, self.shown = a, (text, m), 0
        self._use("volume", vol if vol else None)
        if a.entities.containers or cont:
            self._use("container", cont or a.entities.containers[0])
        if a.entities.paths:
            self.focus.path = a.entities.paths[0]
        if a.diagnoses:
            d = a.diagnoses[0]
            cname = d.evidence.get("container.name")
            if cname:
                self._use("container", cname)
        return self._present(a, note, restate)

    def _present_command(self, text: str, m: Match, src) -> Reply:
        """A pasted docker command with no symptom words: check it before it runs."""
        a = engine.answer(text, self.rules, src, prior=m, project=self.project)
        note = self._remember_state(a.state)
        self.pending = None
        self.last, self.last_question, self.shown = a, (text, m), 0
        if a.command is not None and not a.command.ok:
            err = a.command.error or "unknown reason"
            return Reply().add(safe(err if err.startswith("I could not") else f"I could not read that command: {err}") + ".")
        for v in a.entities.volumes[:1]:
            self._use("volume", v)
        return self._present(a, note)

    def _answer_pending(self, text: str) -> Optional[Reply]:
        p = self.pending
        assert p is not None
        choice = None
        if text.isascii() and text.isdigit() and len(text) <= 3:  # '¹' is a digit to isdigit(), not to int()
            i = int(text)
            if 1 <= i <= len(p.options):
                choice = p.options[i - 1]
            else:
                return Reply().add(f"Pick a number from 1 to {len(p.options)}, or say it in words.")
        if p.kind == "symptom":
            if choice is None:
                titles = {c.id: c.title for c in p.candidates}
                hit = process.extractOne(text, titles, scorer=fuzz.token_set_ratio, processor=utils.default_process,
                                         score_cutoff=80)
                choice = hit[2] if hit else None
            if choice is None:
                self.pending = None
                return None  # a new message, not an answer
            cand = next(c for c in p.candidates if c.id == choice)
            prior = engine.match_question(p.text, self.rules)
            chosen = Match(cand, tuple(c for c in p.candidates if c.id != choice), prior.entities, "chosen")
            self.pending = None
            return self._ask(p.text, prior=chosen)
        if p.kind == "path":
            path = choice or next((w.strip("'\"`,.") for w in text.split() if w.startswith(("/", "'/", '"/'))), None)
            self.pending = None
            if path is None:
                return None  # not a path: a new message
            self.focus.path = path
            return self._ask(f"{p.text} (data in {path})", restate=False)
        # a volume or container name
        name = choice or text.split()[0].strip("'\"`")
        if choice is None and (self._follow_up(text) or len(text.split()) > 2):
            self.pending = None
            return None
        self.pending = None
        prior = engine.match_question(p.text, self.rules)
        if p.kind == "volume":  # the symptom was named when the question was asked
            return self._ask(p.text, prior=prior, volume=name, restate=False)
        return self._ask(p.text, prior=prior, container=name, restate=False)

    # ------------------------------------------------------------ presenting

    def _present(self, a: Answer, note: Optional[str] = None, restate: bool = True) -> Reply:
        r = Reply()
        if note:
            r.add(note, "warning")
        if a.daemon_down:
            err = a.state.error if a.state else None
            r.add(f"I cannot reach the Docker daemon at {safe(a.state.endpoint.url)}"
                  f" ({safe(err.detail) if err else 'no reason given'}).", "error")
        if a.match.symptom and a.match.via != "chosen" and restate:
            r.add(f"That sounds like: {safe(a.match.symptom.title)}.", "title")
        if a.effects:
            r.add(f"Your {a.command.kind} command, before you run it:", "title")
            for e in a.effects:
                r.add(f"  - {safe(e)}")
        for n in a.notes:
            r.add(safe(n))
        if not a.diagnoses:
            if a.state is not None and a.state.reachable:
                r.add("I looked at the daemon and found nothing wrong for this problem." if not a.effects else
                      "I found nothing in it that would lose data or fail on this daemon.")
            if a.advice:
                r.add("Things to check:")
                for x in a.advice:
                    r.add(f"  - {safe(x)}")
            return r
        self._show_diagnosis(r, a.diagnoses[0])
        self.shown = 1
        rest = a.diagnoses[1:]
        if rest:
            r.add(f"I also found {plural(len(rest), 'other problem')}: "
                  + "; ".join(safe(d.title) for d in rest[:3]) + ". Ask \"what else?\" to see the next.", "dim")
        r.add("Ask \"why?\" for the reason, or say \"check again\" once you have tried the fix.", "dim")
        return r

    def _show_diagnosis(self, r: Reply, d: Diagnosis) -> None:
        r.add(f"{mark(d.severity, self.unicode)} {safe(d.title)}", d.severity)
        r.add(f"  {safe(d.message)}")
        r.add("  Fix:")
        for x in d.fix:
            r.add(f"    {safe(x)}", "cmd")

    def _why(self) -> Reply:
        a = self.last
        r = Reply()
        if a is None or not a.diagnoses:
            sym = self.rules.symptoms.get(a.match.symptom.id) if a and a.match.symptom else None
            if sym is None:
                return r.add("There is nothing to explain yet: tell me what went wrong.")
            r.add(f"I found no cause for '{safe(sym.title)}' in the daemon's state, so here is the general picture:")
            for x in sym.advice:
                r.add(f"  - {safe(x)}")
            return r.add(f"(Module: {safe(sym.source)})", "dim")
        d = a.diagnoses[max(0, self.shown - 1)]
        r.add(safe(d.why) if d.why else safe(d.message))
        ev = ", ".join(f"{k} = {engine.show(v)}" for k, v in d.evidence.items())
        r.add(f"What I saw: {safe(ev)}", "dim")
        return r.add(f"(Module: {safe(d.source)})", "dim")

    def _fix(self) -> Reply:
        a = self.last
        r = Reply()
        if a is None or not a.diagnoses:
            return r.add("I have no fix to give yet: I did not find a cause. Try \"check again\" or describe it differently.")
        d = a.diagnoses[max(0, self.shown - 1)]
        r.add(f"For '{safe(d.title)}':")
        for x in d.fix:
            r.add(f"  {safe(x)}", "cmd")
        return r

    def _else(self) -> Reply:
        a = self.last
        r = Reply()
        if a is None:
            return r.add("Tell me what went wrong first.")
        if self.shown < len(a.diagnoses):
            d = a.diagnoses[self.shown]
            self.shown += 1
            self._show_diagnosis(r, d)
            return r
        # no more causes for this symptom: the next candidate symptom
        others = [c for c in a.match.candidates if not a.match.symptom or c.id != a.match.symptom.id]
        if others and self.last_question:
            text = self.last_question[0]
            c = others[0]
            prior = Match(c, tuple(others[1:]), a.match.entities, "chosen")
            r2 = self._ask(text, prior=prior)
            return Reply([Line(f"Another reading of what you said: {safe(c.title)}.", "title"), *r2.lines])
        return r.add("That is all I found. If it is still broken, paste the exact error message, "
                     "or the docker run line you used.")

    def _recheck(self) -> Reply:
        if self.last_question is None or self.last is None:
            return Reply().add("Tell me what went wrong first.")
        text, m = self.last_question
        before = self.last
        vol = self.focus.volume
        cont = self.focus.container
        sym = self.rules.symptoms[m.symptom.id] if m and m.symptom else None
        if sym is not None and sym.needs == "volume":
            cont = None
        after = engine.answer(text, self.rules, self.sources(), volume=vol, container=cont, prior=m, project=self.project)
        note = self._remember_state(after.state)
        r = Reply()
        if note:
            r.add(note, "warning")
        r.add("I looked again.")
        for line in state_changes(before.state, after.state, self.focus):
            r.add(f"  {safe(line)}")
        key = lambda d: (d.rule, d.subject)  # noqa: E731
        old = {key(d): d for d in before.diagnoses}
        new = {key(d): d for d in after.diagnoses}
        fixed = [d for k, d in old.items() if k not in new]
        still = [d for k, d in new.items() if k in old]
        fresh = [d for k, d in new.items() if k not in old]
        for d in fixed:
            r.add(f"{mark('info', self.unicode)} Fixed: {safe(d.title)} ({safe(d.subject)}).", "info")
        for d in still:
            r.add(f"{mark(d.severity, self.unicode)} Still there: {safe(d.title)} ({safe(d.subject)}).", d.severity)
        for d in fresh:
            self._show_diagnosis(r, d)
        if not after.diagnoses and not after.daemon_down:
            r.add("Everything I check for this problem looks right now.")
        self.last, self.shown = after, min(1, len(after.diagnoses))
        return r


def state_changes(before: Optional[DaemonState], after: Optional[DaemonState], focus: Focus) -> list[str]:
    """What changed on the daemon between two answers, in plain words."""
    if before is None or after is None or not (before.reachable and after.reachable):
        return []
    out = []
    bv, av = {v.name for v in before.volumes}, {v.name for v in after.volumes}
    out += [f"{n} now exists." for n in sorted(av - bv)]
    out += [f"{n} is gone." for n in sorted(bv - av)]
    bc = {c.name: c for c in before.containers}
    ac = {c.name: c for c in after.containers}
    out += [f"container {n} is new." for n in sorted(set(ac) - set(bc))]
    out += [f"container {n} was removed." for n in sorted(set(bc) - set(ac))]
    for n in sorted(set(ac) & set(bc)):
        if ac[n].state != bc[n].state:
            out.append(f"container {n} is now {ac[n].state}.")
    if focus.container and focus.container in ac:
        c = ac[focus.container]
        if c.mounts and focus.container in bc and c.mounts == bc[focus.container].mounts:
            ms = ", ".join(f"{m.name or m.source} at {m.destination}" for m in c.mounts)
            out.append(f"{focus.container} still mounts {ms}.")
    if not out:
        out.append("Nothing changed on the daemon since my last answer.")
    return out


# ------------------------------------------------------------ slash commands


@command("help", "", "this list")
def _help(s: Session, arg: str) -> Reply:
    r = Reply().add("Tell me what went wrong in your own words, paste an error, or paste your docker command.")
    r.add("Follow-ups: \"why?\", \"how do I fix it\", \"what else could it be?\", \"check again\".")
    r.add("Commands:")
    w = max(len(c.name) + len(c.args) for c in COMMANDS.values()) + 2
    for c in COMMANDS.values():
        r.add(f"  /{(c.name + ' ' + c.args).strip():<{w}} {c.help}")
    return r


@command("rules", "", "the problems I know and the causes I check")
def _rules(s: Session, arg: str) -> Reply:
    r = Reply()
    for sid, sym in s.rules.symptoms.items():
        r.add(f"{safe(sym.title)}  ({sid})", "title")
        for rule in s.rules.for_symptom(sid):
            r.add(f"  {rule.id}: {safe(rule.title)}")
    return r


@command("explain", "RULE", "what a rule checks and why")
def _explain(s: Session, arg: str) -> Reply:
    if not arg:
        return Reply().add("Which rule? e.g. /explain uid-mismatch (/rules lists them).")
    rule = s.rules.rules.get(arg)
    if rule is None:
        hit = process.extractOne(arg, list(s.rules.rules), scorer=fuzz.ratio, score_cutoff=60)
        return Reply().add(f"No rule {safe(arg)}." + (f" Did you mean {hit[0]}?" if hit else ""))
    r = Reply().add(f"{safe(rule.title)}  ({rule.id}, {rule.severity})", "title")
    if rule.why:
        r.add(safe(rule.why))
    r.add(safe("It looks for: " + "; ".join(_cond(c) for c in rule.when)), "dim")
    return r.add(f"(Module: {safe(rule.source)})", "dim")


def _cond(c) -> str:
    for k, word in (("is_", "is"), ("is_not", "is not"), ("in_", "is one of"), ("min", ">="), ("max", "<=")):
        v = getattr(c, k)
        if v is not None:
            return f"{c.fact} {word} {engine.show(v) if not isinstance(v, tuple) else ', '.join(map(str, v))}"
    return f"{c.fact} {'is known' if c.present else 'is not known'}"


@command("check", "", "look at the daemon: is it reachable, what is there")
def _check(s: Session, arg: str) -> Reply:
    st = s.read_state()
    if st is None:
        return Reply().add("Offline: I am not looking at any daemon.")
    if not st.reachable:
        return Reply().add(f"{mark('error', s.unicode)} The daemon at {safe(st.endpoint.url)} does not answer: "
                           f"{safe(st.error.detail) if st.error else '?'}", "error")
    r = Reply().add(f"{mark('info', s.unicode)} Docker {safe(st.info.server_version)} at {safe(st.endpoint.url)}: "
                    f"{plural(len(st.volumes), 'volume')}, {plural(len(st.containers), 'container')}.", "info")
    if st.info.desktop or st.info.rootless:
        r.add("  Volumes live " + ("inside Docker Desktop's VM" if st.info.desktop else "under your home (rootless)")
              + f": {safe(st.info.root_dir)}/volumes")
    return r


def _reachable_state(s: Session) -> Optional[DaemonState]:
    st = s.read_state()
    return st if st is not None and st.reachable else None


@command("volumes", "", "the volumes on the daemon")
def _volumes(s: Session, arg: str) -> Reply:
    st = _reachable_state(s)
    if st is None:
        return Reply().add("I cannot see the daemon right now.")
    if not st.volumes:
        return Reply().add("There are no volumes. Lab step 1 creates one: docker volume create my-data")
    users = st.volume_users()
    r = Reply()
    for v in st.volumes:
        held = ", ".join(users.get(v.name, [])) or "no container"
        r.add(f"  {safe(v.name)}  (used by {safe(held)})")
    return r


@command("containers", "", "the containers, stopped ones too, with their mounts")
def _containers(s: Session, arg: str) -> Reply:
    st = _reachable_state(s)
    if st is None:
        return Reply().add("I cannot see the daemon right now.")
    if not st.containers:
        return Reply().add("There are no containers.")
    r = Reply()
    for c in sorted(st.containers, key=lambda c: -c.created):
        ms = ", ".join(f"{short_volume(m.name) if m.type == 'volume' else m.source} -> {m.destination}"
                       + ("" if m.rw else " (ro)") for m in c.mounts) or "no mounts"
        r.add(f"  {safe(c.name)}  {safe(c.state)}  {safe(c.image)}  [{safe(ms)}]")
    return r


@command("focus", "volume|container NAME", "say what we are talking about")
def _focus(s: Session, arg: str) -> Reply:
    parts = arg.split()
    if len(parts) != 2 or parts[0] not in ("volume", "container"):
        return Reply().add(f"Now talking about: {safe(s.focus.describe())}. "
                           "Change it with /focus volume NAME or /focus container NAME.")
    s._use(parts[0], parts[1])
    return Reply().add(f"OK, {parts[0]} {safe(parts[1])}.")


@command("report", "[FILE] [--force]", "save a redacted report (state, findings, this conversation) for a TA")
def _report(s: Session, arg: str) -> Reply:
    if s.reporter is None:
        return Reply().add("Reports are not available here; run: voldoctor report -o report.json")
    return s.reporter(s, arg)


@command("reset", "", "forget the conversation so far")
def _reset(s: Session, arg: str) -> Reply:
    s.focus, s.pending, s.last, s.last_question = Focus(), None, None, None
    s.recent = {"volume": [], "container": []}
    return Reply().add("Starting afresh.")


@command("quit", "", "leave (Ctrl-D works too)")
def _quit(s: Session, arg: str) -> Reply:
    return Reply(quit=True)

