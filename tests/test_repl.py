"""The prompt layer: prompt_toolkit pipe input, plain stdin, and a real terminal."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from support import snapshot, talk, wait_until
from voldoctor import repl


class Capture(DummyOutput):
    """DummyOutput that keeps what was written, for reading the answers."""

    def __init__(self):
        super().__init__()
        self.buf = []

    def write(self, data):
        self.buf.append(data)

    def write_raw(self, data):
        self.buf.append(data)

    @property
    def text(self):
        return "".join(self.buf)


def drive(keys: str, state="volume-typo"):
    """Type keys into the prompt_toolkit layer over a pipe; the session, the exit code and the screen text."""
    s, _ = talk(snapshot(state))
    out = Capture()
    with create_pipe_input() as inp, create_app_session(input=inp, output=out):
        inp.send_text(keys)
        code = repl.run_tty(s, "banner", color=False, input=inp, output=out)
    return s, code, out


def test_pipe_input_conversation(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s, code, out = drive("volume not found\rmy_data\rwhy\r/quit\r")
    assert code == 0
    assert "near miss" in out.text and "Docker treats every different spelling" in out.text
    assert (tmp_path / "voldoctor" / "history").read_text().count("volume not found") == 1


def test_ctrl_c_clears_and_ctrl_d_exits(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s, code, out = drive("half a line\x03/volumes\r\x04")
    assert code == 0 and "my-data" in out.text
    assert [t[0] for t in s.transcript] == ["/volumes"]


def test_unwritable_history_warns_once_and_goes_on(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "voldoctor").write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(ro))
    s, code, out = drive("/volumes\r/quit\r")
    assert out.text.count("cannot keep history") == 1 and "my-data" in out.text


def test_completer_offers_names_and_commands():
    from prompt_toolkit.document import Document

    s, _ = talk(snapshot("healthy-permission"))
    c = repl._completer(s)
    words = lambda t: [x.text for x in c.get_completions(Document(t), None)]  # noqa: E731
    assert "/help" in words("/he")
    assert "my-data" in words("/focus volume my")
    assert "vdt-lab" in words("/focus container vdt")
    s.handle("volume not found")
    assert "my-data" in words("my")


def test_completer_never_raises():
    from prompt_toolkit.document import Document

    s, _ = talk(snapshot("healthy-permission"))

    def broken(kind):
        raise RuntimeError("boom")

    s.names = broken
    c = repl._completer(s)
    assert list(c.get_completions(Document("my"), None)) == []


def test_plain_stdin_pipe(tmp_path):
    snap = tmp_path / "s.json"
    from voldoctor import state as st

    snap.write_text(st.dump(snapshot("volume-typo")))
    p = subprocess.run([sys.executable, "-m", "voldoctor", "--snapshot", str(snap)],
                       input="volume not found\nmy_data\nwhy\n", capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert "\x1b[" not in p.stdout  # no ANSI when not a terminal
    assert "replaying a snapshot" in p.stdout
    assert "near miss" in p.stdout and "Docker treats every different spelling" in p.stdout


# ------------------------------------------------------------ a real terminal


class Pty:
    def __init__(self, argv, env):
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        self.screen = b""
        self.status = None

    def read_until(self, pattern: str, timeout=20.0) -> str:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            if rx.search(self.clean()):
                return self.clean()
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    self.screen += os.read(self.fd, 65536)
                except OSError:
                    break
        raise AssertionError(f"did not see {pattern!r}; screen so far:\n{self.clean()[-3000:]}")

    def clean(self) -> str:
        t = self.screen.decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", t)

    def send(self, text: str):
        os.write(self.fd, text.encode())

    def wait_exit(self, timeout=20.0) -> int:
        """The exit status, once the child has ended on its own (polled, up to timeout)."""
        def ended():
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return True
            return False

        wait_until(ended, timeout, what="the terminal session to end")
        return self.status

    def close(self):
        if self.status is not None:
            return
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


@pytest.mark.live
def test_real_terminal_session(lab, daemon_host, tmp_path):
    lab.volume("my-data")
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT",)}
    env.update(DOCKER_HOST=daemon_host, XDG_STATE_HOME=str(tmp_path), TERM="xterm", COLUMNS="120", LINES="40",
               PROMPT_TOOLKIT_NO_CPR="1")
    t = Pty([sys.executable, "-m", "voldoctor"], env)
    try:
        t.read_until(r"you>")
        t.send("my volume is not foud\r")
        t.read_until(r"Which volume is it about\?")
        t.send("/focus volume my\t")  # Tab completes the real volume name
        t.read_until(r"/focus volume my-data")
        t.send("\x15")  # clear the line (Ctrl-U) and answer the question instead
        t.send("my_data\r")
        t.read_until(r"there is my-data")
        t.send("why\r")
        t.read_until(r"Docker treats every different spelling")
        lab.api.create_volume("my_data")  # the learner applies the fix
        lab.volumes.append("my_data")
        t.send("check again\r")
        screen = t.read_until(r"Fixed: The volume name is a near miss")
        assert "my_data now exists." in screen
        t.send("/quit\r")
        assert t.wait_exit() == 0
    finally:
        t.close()


def test_completion_forgives_underscore_and_case():
    from prompt_toolkit.document import Document

    s, _ = talk(snapshot("volume-typo"))
    s.handle("volume not found")
    c = repl._completer(s)
    assert [x.text for x in c.get_completions(Document("MY_"), None)] == ["my-data"]


def test_history_file_is_private_and_masks_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    old = os.umask(0o022)
    try:
        drive("docker run -e DB_PASS=hunter2 -v my_data:/data busybox\r"
              "token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8\r/quit\r")
    finally:
        os.umask(old)
    hist = tmp_path / "voldoctor" / "history"
    text = hist.read_text()
    assert "hunter2" not in text and "A1b2C3d4E5f6" not in text
    assert "DB_PASS=***" in text and "-v my_data:/data" in text
    assert os.stat(hist).st_mode & 0o777 == 0o600


def test_existing_history_is_made_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    hist = tmp_path / "voldoctor" / "history"
    hist.parent.mkdir()
    hist.write_text("\n# 2024-01-01 00:00:00.000000\n+volume not found\n")
    os.chmod(hist, 0o644)
    s, code, out = drive("/volumes\r/quit\r")
    assert os.stat(hist).st_mode & 0o777 == 0o600
    assert "volume not found" in hist.read_text()


def test_history_is_not_written_through_a_link(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.chmod(victim, 0o644)
    (tmp_path / "voldoctor").mkdir()
    (tmp_path / "voldoctor" / "history").symlink_to(victim)
    s, code, out = drive("/volumes\r/quit\r")
    assert code == 0 and "symbolic link" in out.text
    assert victim.read_text() == "keep" and os.stat(victim).st_mode & 0o777 == 0o644
