"""Helpers shared by the test modules (a plain package: it holds no tests).

- snapshot(), talk(), Daemon: captured daemon states and the conversation on them
- fake_daemon(): a unix socket served by a handler, for daemons that misbehave
- busy_port(), free_port(), as_nobody(), run_cli(), run_json(), voldoctor()
- wait_until(): poll for a state, up to a bound, instead of sleeping
- hang_guard(): fail (and unblock) a call that is still running after a generous bound
- fuzz(): a hypothesis test, full size under the "ci" profile, small under "dev"

The Docker harness (a private dockerd, the test images, Lab) is in
support.dockerd; the live scenarios in support.scenarios; the fix-line
checker in support.fixcheck.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

ROOT = Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "src"
DATA = ROOT / "tests" / "data"
SNAPSHOTS = DATA / "snapshots"

T = TypeVar("T")


# ------------------------------------------------------------ captured states and the conversation


@functools.lru_cache(maxsize=None)
def rules():
    """The bundled rules of the tree under test, loaded once."""
    from voldoctor import rules as r

    return r.load()


def snapshot(name: str):
    """The daemon state a live scenario captured (tests/data/snapshots/NAME.json)."""
    from voldoctor import state as st

    return st.loads(json.dumps(json.loads((SNAPSHOTS / f"{name}.json").read_text())["state"]))


class Daemon:
    """A switchable state source: what the daemon looks like at each turn."""

    def __init__(self, state):
        self.state = state
        self.reads = 0

    def source(self):
        def read(pick):
            self.reads += 1
            return self.state

        return read


def talk(state):
    """A conversation over a state; the Daemon lets a test change the state between turns."""
    from voldoctor.session import Session

    d = Daemon(state)
    return Session(rules(), d.source, unicode=False), d


# ------------------------------------------------------------ polling


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Call predicate until it returns something true, and return that; fail
    after timeout seconds. For a state a container or a process reaches in
    its own time (a file written, a process gone), never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


@contextlib.contextmanager
def hang_guard(release: Callable[[], object], seconds: float = 30.0):
    """For a block that must return on its own (a timeout that must fire):
    if it is still running after `seconds`, call release() (which must make
    it return: stop a fake daemon, thaw a frozen one) and fail. The bound is
    a hang guard, far above any deadline, not a claim about speed: bench/
    measures how long such calls take."""
    fired = threading.Event()

    def fire():
        fired.set()
        release()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    if fired.is_set():
        raise AssertionError(f"still running after {seconds}s: the hang guard released it")


# ------------------------------------------------------------ fake daemons and ports


@contextlib.contextmanager
def fake_daemon(path: Path, handler):
    """Serve a unix socket at path for the block: each connection goes to
    handler(conn, stop) in a thread of its own (a hung one does not hold up
    the next); stop is set when the block ends."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(64)
    stop = threading.Event()

    def loop():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.settimeout(None)
            threading.Thread(target=handler, args=(conn, stop), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield stop
    finally:
        stop.set()
        srv.close()


# Handlers for fake_daemon: the ways a daemon can misbehave. bench/deadlines.py
# times voldoctor against the same ones.


def hang(conn, stop):
    """Accepts and never answers."""
    stop.wait(60)
    conn.close()


def http_headers(extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n" + extra


def dribbler(reply: bytes, every: float = 0.05):
    """Reads the request, then sends reply one byte every `every` seconds:
    each read is quick, the whole answer is not."""

    def handler(conn, stop):
        conn.recv(65536)
        for i in range(len(reply)):
            if stop.is_set():
                break
            try:
                conn.sendall(reply[i:i + 1])
            except OSError:
                break
            time.sleep(every)
        conn.close()

    return handler


def dribbling_body():
    """A whole, valid /version answer, one byte every 50 ms (about 5 minutes of it)."""
    body = json.dumps({"ApiVersion": "1.41", "Version": "20.10", "Pad": "x" * 5000}).encode()
    return dribbler(http_headers(b"Content-Length: %d\r\n\r\n" % len(body)) + body)


def dribbling_headers():
    """Headers that never end, one byte every 50 ms."""
    return dribbler(http_headers() + b"X-Pad: " + b"y" * 4000)


def endless(conn, stop):
    """Reads the request, then sends a chunked answer that never ends, as fast as it can."""
    conn.recv(65536)
    try:
        conn.sendall(http_headers(b"Transfer-Encoding: chunked\r\n\r\n"))
        chunk = b"[" * 65536
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while not stop.is_set():
            conn.sendall(frame)
    except OSError:
        pass
    conn.close()


@contextlib.contextmanager
def busy_port():
    """A loopback port that something is listening on, for the block."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ running voldoctor


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """voldoctor's main() in this process: (exit code, stdout, stderr)."""
    from voldoctor.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, *argv, "--json")
    return code, json.loads(out)


def subprocess_env(env: dict | None = None, keep_docker: bool = False) -> dict:
    """The environment for a voldoctor child: this one (PYTHONPATH leads to
    the tree under test), without DOCKER_HOST and DOCKER_CONTEXT unless kept,
    plus env."""
    e = {k: v for k, v in os.environ.items() if keep_docker or k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    e.update(env or {})
    return e


def voldoctor(*argv, env=None, timeout=60, input=None, cwd=None) -> subprocess.CompletedProcess:
    """`python -m voldoctor ARGV` as a child process. The timeout only guards
    against a hang (subprocess.TimeoutExpired fails the test); it is not a
    claim about speed, which bench/ measures."""
    return subprocess.run([sys.executable, "-m", "voldoctor", *argv], capture_output=True, text=True,
                          env=subprocess_env(env), timeout=timeout, input=input, cwd=cwd)


def as_nobody(fn) -> object:
    """Run fn() in a forked child that dropped root (uid/gid 65534, no groups)
    and return what it returns (JSON-able). Modules it needs must be imported
    before the call: the child may not be able to read site-packages."""
    import docker  # noqa: F401
    import docker.errors  # noqa: F401
    import docker.utils  # noqa: F401
    import requests.exceptions  # noqa: F401

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


# ------------------------------------------------------------ fuzzing


def fuzz(full: int):
    """A hypothesis test with `full` examples under the "ci" profile (what
    .ci/run selects) and the small count of the "dev" profile otherwise
    (tests/conftest.py registers both). Marked `fuzz`, so `-m fuzz` runs
    only these and `-m "not fuzz"` skips them."""
    import pytest
    from hypothesis import HealthCheck, settings

    def deco(fn):
        profile = settings.get_current_profile_name()
        n = full if profile == "ci" else min(full, settings.default.max_examples)
        fn = settings(max_examples=n, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])(fn)
        return pytest.mark.fuzz(fn)

    return deco


# Fix lines run for real by the live tests, and those whose scenario then
# checked the cause gone and the learner's goal holding (printed at the end).
FIX_COUNTS = {"run": 0, "verified": 0, "unverified": {}}  # unverified: scenario -> why not here
