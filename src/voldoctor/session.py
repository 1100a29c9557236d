"""The conversation, as a pure object: handle(text) -> Reply.

It keeps what the learner is talking about (volume, container, data path),
asks when it is not sure, answers follow-ups ("why?", "how do I fix it",
"what else could it be?", "check again") and notices when the daemon goes
away or comes back. It knows nothing of terminals: the REPL and the tests
drive it the same way.
"""

from __future__ import annotations

from typing import Callable, Optional

from rapidfuzz import fuzz, process, utils

from voldoctor import chat, commandline, engine, followups, probes, recheck, slash, turns  # noqa: F401 - slash registers the commands
from voldoctor.lab import talk as lab_talk  # registers /lab and /hint
from voldoctor.engine import Answer
from voldoctor.plan import ReadPlan
from voldoctor.conversation import COMMANDS, FOLLOW_UP_CUTOFF, FOLLOW_UPS, Focus, Line, Pending, Reply
from voldoctor.render import CLEAR_ON_DAEMON, NOT_VOLUMES, found_beside, safe
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonState
from voldoctor.symptoms import Match

SourceFactory = Callable[[], Optional[engine.StateSource]]

__all__ = ["COMMANDS", "Focus", "Line", "Reply", "Session"]


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
        self.looked: Optional[Answer] = None  # the last answer that saw the daemon: what "check again" compares with
        self.last_question: Optional[tuple[str, Optional[Match]]] = None
        self.shown = 0  # how many of last.diagnoses have been shown in full
        self.state: Optional[DaemonState] = None
        self.turn = 0
        self.state_turn = -1
        self.transcript: list[tuple[str, str, tuple[str, ...]]] = []  # (learner, answer, rules found)
        self.reporter: Optional[Callable[["Session", str], Reply]] = None  # set by the REPL: it writes files
        self.lab_hints = None  # the lab's hint memory (voldoctor.lab.hints), made when first needed

    # ------------------------------------------------------------ state

    def read_state(self) -> Optional[DaemonState]:
        """The daemon's state for this turn, read at most once per turn."""
        if self.state_turn == self.turn and self.state is not None:
            return self.state
        src = self.sources()
        if src is None:
            return None
        self._remember_state(src(ReadPlan()))
        return self.state

    def _remember_state(self, st: Optional[DaemonState]) -> Optional[str]:
        """Keep the newest state; say so when the daemon went away or came back,
        and when the container in focus is gone or was made again."""
        before = self.state
        self.state, self.state_turn = st, self.turn
        gone = chat.vanished(before, st, self.focus.container)
        if gone and st.container(self.focus.container or "") is None:
            self.focus.container = None  # nothing left to talk about there
        if st is None or before is None or before.reachable == st.reachable:
            return gone
        if st.reachable:
            return "The daemon answers again."
        return f"The daemon stopped answering ({safe(st.error.detail) if st.error else 'unknown reason'})."

    def _look_at_focus(self) -> Optional[str]:
        """For a reply that reads nothing else: is the container in focus still there?"""
        if not self.focus.container or self.state is None or not self.state.reachable or self.state_turn == self.turn:
            return None
        src = self.sources()
        return self._remember_state(src(ReadPlan())) if src is not None else None

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
        """Likely data paths: the focus, folders where containers wrote files outside their
        mounts (when read), their mount points, the lab's own."""
        st = self.state
        found = [self.focus.path] if self.focus.path else []
        if st is not None and st.reachable:
            newest = sorted(st.containers, key=lambda c: -c.created)
            found += [f for c in newest for f in probes.written_folders(c)]
            found += [m.destination for c in newest for m in c.mounts]
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
        if turns.wants_to_leave(text):
            return Reply(quit=True)
        if turns.wants_help(text) and self.pending is None:
            return COMMANDS["help"].run(self, "")
        if (said := turns.small_talk(text)) is not None and self.pending is None:
            return Reply().add(said)
        named = turns.named_container(text, lambda: self.names("container"))
        if named is not None:  # "my container is called web": the focus, not a symptom
            return self._named(named)
        if (path := turns.told_path(text)) and self.last_question and self.pending is None:  # "it was in /app/data"
            return self._ask(f"{self.last_question[0]} {path}", prior=self.last_question[1], restate=False)
        if self.pending is not None:
            r = self._answer_pending(text)
            if r is not None:
                return r
        kind = self._follow_up(text)
        if kind in lab_talk.FOLLOW_UPS:
            return lab_talk.follow_up(self, kind)
        if kind is not None:
            if self.last is None:
                return Reply().add("Tell me first what went wrong: a symptom in your words, an error message, "
                                   "or the docker command you ran.")
            return {"why": self._why, "fix": self._fix, "else": self._else, "recheck": self._recheck}[kind]()
        return self._ask(text)

    def _menu_again(self, kind: str) -> Reply:
        """A follow-up while the numbered question is open: the choices are still the way on."""
        first = ("Then it is none of these, as far as your words tell me." if kind == "else"
                 else "I cannot tell yet which problem it is, so there is nothing to explain or fix.")
        r = Reply().add(first + " The choices were:")
        for i, c in enumerate(self.pending.candidates, 1):
            r.add(f"  {i}. {safe(c.title)}")
        return r.add("Answer with a number, or paste the error exactly as Docker printed it, or say what you "
                     "expected and what happened instead.", "dim")

    def _follow_up(self, text: str) -> Optional[str]:
        if len(text) > 60:
            return None
        t = utils.default_process(text)
        best, best_kind = 0.0, None
        for kind, phrases in {**FOLLOW_UPS, **lab_talk.FOLLOW_UPS}.items():
            hit = process.extractOne(t, phrases, scorer=fuzz.ratio, processor=None, score_cutoff=FOLLOW_UP_CUTOFF)
            if hit and hit[1] > best:
                best, best_kind = hit[1], kind
        return best_kind

    # ------------------------------------------------------------ asking

    def _ask(self, text: str, prior: Optional[Match] = None, *, volume: Optional[str] = None,
             container: Optional[str] = None, restate: bool = True) -> Reply:
        src = self.sources()
        q = engine.read(text, self.rules) if prior is None else engine.Question(
            text, commandline.parse(text) if commandline.command_line(text) else None, prior)
        m = q.match
        if m.symptom is None and q.pasted:
            return self._present_command(q, src)
        if m.symptom is None and m.other:
            r = Reply().add(NOT_VOLUMES)
            if not m.candidates:
                return r.add("If it is about a volume after all, paste the error exactly as Docker printed it.", "dim")
            self.pending = Pending("symptom", text, [c.id for c in m.candidates], m.candidates)
            r.add("If it is about a volume after all, did you mean:")
            for i, c in enumerate(m.candidates, 1):
                r.add(f"  {i}. {c.title}")
            return r.add("Answer with a number, or say it in other words.", "dim")
        if m.symptom is None and (gone := self._look_at_focus()):
            r = Reply().add(gone, "warning")
            if m.candidates:
                self.pending = Pending("symptom", text, [c.id for c in m.candidates], m.candidates)
                r.add("If something else is wrong, is it one of these? " + "; ".join(
                    f"{i}. {safe(c.title)}" for i, c in enumerate(m.candidates, 1)), "dim")
            return r
        if m.symptom is None:
            if not m.candidates:
                return Reply().add("I could not tell which volume problem that is. Paste the error exactly as "
                                   "Docker printed it, or say what you expected and what happened.") \
                    .add("Examples: 'volume not found', 'permission denied writing /app/data', "
                         "'my data is gone after docker rm'.", "dim")
            looked = None
            if src is not None and prior is None:  # the daemon may tell the candidates apart
                looked = engine.answer(q, self.rules, src, volume=volume, container=container, project=self.project)
                if looked.match.via == "state":
                    return self._ask(text, looked.match, volume=volume, container=container, restate=restate)
            self.pending = Pending("symptom", text, [c.id for c in m.candidates], m.candidates)
            found = [d for d in looked.diagnoses if d.severity != "info"] if looked is not None else []
            r = Reply()
            if found:  # what the daemon shows comes first; the question stays open below it
                r.add("I am not sure which problem you mean. " + found_beside(looked), "title")
                for d in found:
                    chat.show_diagnosis(r, d, self.unicode)
            r.add("If it is something else, is it one of these?" if found else
                  "I am not sure which problem you mean. Did you mean:")
            for i, c in enumerate(m.candidates, 1):
                r.add(f"  {i}. {safe(c.title)}")
            if looked is not None and looked.clear_on_daemon:
                r.add(CLEAR_ON_DAEMON)
            return r.add("Answer with a number, or say it in other words.", "dim")
        sym = self.rules.symptoms[m.symptom.id]
        vol = volume or (m.entities.volumes[0] if m.entities.volumes else None)
        cont = container or (m.entities.containers[0] if m.entities.containers else None)
        if sym.needs == "volume" and vol is None:
            vol = self.focus.volume
        if cont is None and self.focus.container and sym.needs != "volume" and not m.entities.paths and not q.pasted:
            cont = self.focus.container  # a newly pasted command is the topic now, not the container before it
        if sym.needs == "path" and not m.entities.paths and self.focus.path:  # the path we are talking about
            text = f"{text} (data in {self.focus.path})"
            q = engine.Question(text, q.command, m, q.cleanup)
        a = chat.pasted_first(self.rules, engine.answer(q, self.rules, src, volume=vol, container=cont, project=self.project))
        note = self._remember_state(a.state)
        if a.needs == "path":
            self.pending = Pending("path", text, self.paths(), m.candidates, m)
            r = Reply()
            if note:
                r.add(note, "warning")
            r.add(f"{safe(sym.title)}. Which folder inside the container holds the data your app writes?")
            for i, n in enumerate(self.pending.options[:6], 1):
                r.add(f"  {i}. {safe(n)}")
            return r.add("Give a number or a path such as /app/data.", "dim")
        if a.needs in ("volume", "container"):
            self.pending = Pending(a.needs, text, self.names(a.needs), m.candidates, m)
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
        self.looked = a if a.state is not None and a.state.reachable else None
        self._use("volume", vol if vol else None)
        if cont and a.state is not None and a.state.reachable and a.state.container(cont) is None:
            cont = None  # not on this daemon (or gone): not a focus
        if a.entities.containers or cont:
            self._use("container", cont or a.entities.containers[0])
        if a.entities.paths:
            self.focus.path = a.entities.paths[0]
        if a.diagnoses:
            d = a.diagnoses[0]
            cname = d.evidence.get("container.name")
            if cname:
                self._use("container", cname)
        self.shown = min(1, len(a.diagnoses))
        r = chat.present(a, self.unicode, note, restate)
        warn = chat.rm_warning(a.state, self.focus.container)
        if warn and not (a.diagnoses and "container.auto_remove" in a.diagnoses[0].evidence):  # a rule said it first
            r.add(warn, "warning")
        return r

    def _present_command(self, q: "engine.Question", src) -> Reply:
        """A pasted docker command with no symptom words: check it before it runs."""
        text, m = q.text, q.match
        a = chat.pasted_first(self.rules, engine.answer(q, self.rules, src, project=self.project))
        note = self._remember_state(a.state)
        self.pending = None
        self.last, self.last_question, self.shown = a, (text, m), 0
        self.looked = a if a.state is not None and a.state.reachable else None
        if a.command is not None and not a.command.ok:
            err = a.command.error or "unknown reason"
            return Reply().add(safe(err if err.startswith("I could not") else f"I could not read that command: {err}") + ".")
        for v in a.entities.volumes[:1]:
            self._use("volume", v)
        if a.command is not None and a.command.kind in ("run", "create"):
            self.focus.container = None  # the container before it is no longer the topic
        self.shown = min(1, len(a.diagnoses))
        return chat.present(a, self.unicode, note)

    def _answer_pending(self, text: str) -> Optional[Reply]:
        p = self.pending
        assert p is not None
        choice = None
        i = turns.pick(text, len(p.options)) if p.options else None  # "2", "the first one i think", "last"
        if i is not None:
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
            if choice is None and (kind := self._follow_up(text)) in ("else", "why", "fix"):
                return self._menu_again(kind)  # the question stays open
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
            return self._ask(f"{p.text} (data in {path})", prior=p.match, restate=False)
        # a volume or container name
        name = choice or text.split()[0].strip("'\"`")
        if choice is None and (self._follow_up(text) or len(text.split()) > 2):
            self.pending = None
            return None
        self.pending = None
        prior = p.match or engine.match_question(p.text, self.rules)
        if p.kind == "volume":  # the symptom was named when the question was asked
            return self._ask(p.text, prior=prior, volume=name, restate=False)
        return self._ask(p.text, prior=prior, container=name, restate=False)

    def _named(self, name: str) -> Reply:
        """The learner named their container: it becomes the focus (when the
        daemon has it) and the topic stays what it was, looked at there."""
        p = self.pending
        if p is not None and p.kind == "container":
            self.pending = None
            return self._ask(p.text, prior=p.match or engine.match_question(p.text, self.rules), container=name,
                             restate=False)
        st = self.read_state()
        r = Reply()
        if st is None or not st.reachable:
            self._use("container", name)
            return r.add(f"OK, container {safe(name)}. I cannot see the daemon right now, so I could not check "
                         "that it exists.")
        if st.container(name) is None:
            near = process.extractOne(name, [c.name for c in st.containers], scorer=fuzz.ratio, score_cutoff=60)
            r.add(f"There is no container named {safe(name)} on this daemon" + (f"; did you mean {safe(near[0])}?"
                                                                                if near else "."))
            return r.add("/containers lists them, stopped ones too.", "dim")
        self._use("container", name)
        topic = self.last_question
        sym = self.rules.symptoms.get(topic[1].symptom.id) if topic and topic[1] and topic[1].symptom else None
        if sym is None or sym.needs == "volume":
            return r.add(f"OK, container {safe(name)}. Tell me what goes wrong with it.")
        r.add(f"OK, container {safe(name)}. {safe(sym.title)}, looked at there:")
        return Reply([*r.lines, *self._ask(topic[0], prior=topic[1], container=name, restate=False).lines])

    # ------------------------------------------------------------ presenting

    def _why(self) -> Reply:
        return followups.why(self)

    def _fix(self) -> Reply:
        return followups.fix(self)

    def _else(self) -> Reply:
        return followups.other(self)

    def _recheck(self) -> Reply:
        return recheck.run(self)
