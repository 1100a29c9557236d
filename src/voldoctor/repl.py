"""The terminal side of the conversation: prompt_toolkit wiring only.

History, completion, key bindings and the bottom toolbar live here; every
decision is made by session.Session. With stdin not a terminal, one message
is read per line and answers are printed as plain text.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, Optional

from voldoctor import render
from voldoctor.session import COMMANDS, Reply, Session

STYLES = {
    "error": "ansired bold",
    "warning": "ansiyellow",
    "info": "ansigreen",
    "dim": "#888888",
    "cmd": "ansicyan",
    "title": "bold",
}


def history_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "voldoctor" / "history"


def make_session(args) -> tuple[Session, Optional[str]]:
    """The conversation and a one-line banner."""
    from voldoctor.app import load_rules, state_source

    rs = load_rules(args)
    source = state_source(args)
    from voldoctor.app import load_project

    s = Session(rs, lambda: source, unicode=render.unicode_ok(), project=load_project(args))
    s.reporter = lambda sess, arg: write_report(sess, arg, args)
    st = s.read_state()
    if st is None:
        banner = "voldoctor (offline: no daemon)."
    elif st.replay:
        banner = (f"voldoctor, replaying a snapshot of {render.safe(st.endpoint.url)} "
                  f"(Docker {render.safe(st.info.server_version)}, "
                  f"{render.holdings(st)}).")
    elif st.reachable:
        banner = (f"voldoctor: Docker {render.safe(st.info.server_version)} at {render.safe(st.endpoint.url)}, "
                  f"{render.holdings(st)}.")
    elif st.error is not None and st.error.kind == "config-corrupt":
        banner = f"voldoctor: I cannot tell where the daemon is: {render.safe(st.error.detail)}. You can still talk to me."
    else:
        banner = (f"voldoctor: the daemon at {render.safe(st.endpoint.url)} does not answer "
                  f"({render.safe(st.error.detail) if st.error else '?'}). You can still talk to me.")
    return s, banner + " Tell me what went wrong; /help for more."


FORCE_WORDS = ("--force", "-f")


def write_report(s: Session, arg: str, args) -> Reply:
    """/report [FILE] [--force]: the state as the conversation saw it, with the conversation."""
    from voldoctor import report
    from voldoctor.files import Exists, WriteError, write_private

    words = arg.split()
    force = any(w in FORCE_WORDS for w in words)
    path = " ".join(w for w in words if w not in FORCE_WORDS) or "voldoctor-report.json"
    st = s.read_state()
    if st is None:
        return Reply().add("Offline: there is no daemon state to report.")
    rep = report.build(st, s.rules, conversation=s.transcript)
    markdown = path.endswith((".md", ".markdown"))
    text = report.markdown(rep) if markdown else render.to_json(rep) + "\n"
    shown = render.safe(path)
    try:
        write_private(path, text, force=force)
    except Exists:
        return Reply().add(f"{shown} already exists and I leave it as it is. Give another file name, "
                           f"or replace it with: /report {shown} --force", "warning")
    except WriteError as e:
        return Reply().add(f"I could not save the report: {render.safe(e)}.", "error")
    r = Reply().add(f"Saved {shown} ({len(rep['findings'])} finding(s), secrets masked, readable only by you).")
    if markdown:
        return r.add("Paste it in a chat with your TA. A markdown report is for reading only; "
                     "for one your TA can replay, save it as JSON: /report FILE.json")
    return r.add("Send it to your TA; they can replay it with: voldoctor --snapshot " + shown)


def run(args) -> int:
    s, banner = make_session(args)
    if not sys.stdin.isatty():
        return run_plain(s, banner, sys.stdin, sys.stdout)
    color = not (getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))
    return run_tty(s, banner, color)


def run_plain(s: Session, banner: str, lines: Iterable[str], out) -> int:
    out.write(banner + "\n")
    for raw in lines:
        text = raw.rstrip("\n")
        if not text.strip():
            continue
        out.write(f"> {render.safe(text)}\n")
        reply = s.handle(text)
        if reply.text:
            out.write(reply.text + "\n")
        out.flush()
        if reply.quit:
            break
    return 0


# ------------------------------------------------------------ terminal


def _completer(s: Session):
    from prompt_toolkit.completion import Completer, Completion

    phrases = sorted({p for sym in s.rules.symptoms.values() for p in sym.phrases})

    class VoldoctorCompleter(Completer):
        def get_completions(self, document, complete_event):
            try:
                yield from self._complete(document)
            except Exception:  # a completer bug must never reach the learner
                return

        def _complete(self, document):
            text = document.text_before_cursor
            word = document.get_word_before_cursor(WORD=True)
            if text.startswith("/") and " " not in text:
                for name, cmd in COMMANDS.items():
                    if name.startswith(text[1:]):
                        yield Completion("/" + name, start_position=-len(text), display_meta=cmd.help)
                return
            if text.startswith("/focus "):
                parts = text.split()
                if len(parts) <= 2 and not text.endswith(" ") or len(parts) == 1:
                    for k in ("volume", "container"):
                        if k.startswith(word):
                            yield Completion(k, start_position=-len(word))
                    return
                kind = parts[1]
                if kind in ("volume", "container"):
                    yield from self._names(kind, word)
                return
            if s.pending is not None and s.pending.kind in ("volume", "container"):
                yield from self._names(s.pending.kind, word)
                return
            yield from self._names("volume", word)
            yield from self._names("container", word)
            if len(text) >= 3 and " " in text.strip() or len(word) >= 3:
                low = text.lower()
                for p in phrases:
                    if p.startswith(low) and p != low:
                        yield Completion(p, start_position=-len(text), display_meta="symptom")

        def _names(self, kind, word):
            # '_' for '-' and case are the usual slips: "my_" completes to "my-data".
            norm = word.lower().replace("_", "-")
            for n in s.names(kind):
                if not word or n.startswith(word) or n.lower().replace("_", "-").startswith(norm):
                    yield Completion(n, start_position=-len(word), display_meta=kind)

    return VoldoctorCompleter()


def open_history():
    """A history file under XDG_STATE_HOME (mode 0600, secrets masked before
    they are stored), or memory when it cannot be written."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from voldoctor.redact import redact_text

    class MaskedFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            super().store_string(redact_text(string))

    path = history_path()
    if os.path.islink(path):
        return InMemoryHistory(), (f"voldoctor: {render.safe(path)} is a symbolic link, which I do not write "
                                   "through; history lasts this session only.")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Never through a link; private whether new or left by an older voldoctor.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        return MaskedFileHistory(str(path)), None
    except OSError as e:
        return InMemoryHistory(), (f"voldoctor: cannot keep history in {render.safe(path)} ({e.strerror or e}); "
                                   "history lasts this session only.")


def run_tty(s: Session, banner: str, color: bool, *, input=None, output=None) -> int:
    from prompt_toolkit import PromptSession, print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.styles import Style

    history, warning = open_history()
    style = Style.from_dict(STYLES if color else {})

    def toolbar():
        st = s.state
        where = render.safe(st.endpoint.url) if st is not None else "offline"
        up = "" if st is None or st.reachable else " (not answering)"
        return f" {where}{up} | talking about: {render.safe(s.focus.describe())} | /help"

    session = PromptSession(history=history, completer=_completer(s), complete_while_typing=False,
                            bottom_toolbar=toolbar, style=style, input=input, output=output)

    def say(text: str, cls: str = "") -> None:
        # Text goes in as a plain fragment: names with '<', '{' or ANSI are never markup.
        frag = FormattedText([(f"class:{cls}" if cls and color else "", text)])
        print_formatted_text(frag, style=style, output=output)

    if warning:
        say(warning, "warning")
    say(banner, "title")
    while True:
        try:
            text = session.prompt("you> ")
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line
        except EOFError:
            break
        reply = s.handle(text)
        for line in reply.lines:
            say(line.text, line.style)
        if reply.quit:
            break
    return 0
