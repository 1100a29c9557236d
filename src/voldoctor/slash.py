"""The conversation's slash commands. Each registers itself, and /help is
made from the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rapidfuzz import fuzz, process

from voldoctor import engine
from voldoctor.conversation import COMMANDS, Focus, Reply, command
from voldoctor.render import holdings, mark, safe, short_volume
from voldoctor.state import DaemonState

if TYPE_CHECKING:
    from voldoctor.session import Session


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
                    f"{holdings(st)}.", "info")
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
    s.focus, s.pending, s.last, s.last_question, s.looked = Focus(), None, None, None, None
    s.recent = {"volume": [], "container": []}
    return Reply().add("Starting afresh.")


@command("quit", "", "leave (Ctrl-D works too)")
def _quit(s: Session, arg: str) -> Reply:
    return Reply(quit=True)
