#!/usr/bin/env python3
"""How long voldoctor takes to give up on a troubled daemon, against its --timeout.

The tests assert what each case yields (the error kind, the rule, that it
returns at all); this prints how long it takes. Cases: a missing socket, a
refused connection, a daemon that accepts and never answers, a frozen one
(a listening process stopped with SIGSTOP), one that dribbles its answer or
its headers a byte every 50 ms, one whose answer never ends, and, when root
and dockerd are there, a real private dockerd frozen with SIGSTOP.

Each case runs `python -m voldoctor ...` BENCH_RUNS times (default 3) and
prints the median and the worst wall time, the time over the timeout, and
what it ended with. `voldoctor --version` gives Python's start-up for
reference; the in-process rows have none.

Usage: python3 bench/deadlines.py [--no-dockerd]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from support import dribbling_body, dribbling_headers, endless, fake_daemon, hang  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ENV = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
LAB = None  # a lab profile whose port is free, written in main()


def run(argv, host, guard=120.0):
    """One `voldoctor ARGV --host HOST` as a child: (seconds, exit code, what it ended with)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "voldoctor", *argv, "--host", host], env=ENV, capture_output=True,
                       text=True, timeout=guard)
    took = time.perf_counter() - t0
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    what = "timeout (did not answer within)" if "did not answer within" in last else last[:60]
    with contextlib.suppress(ValueError, KeyError, TypeError):
        out = json.loads(p.stdout)
        if "daemon" in out and isinstance(out["daemon"], dict) and out["daemon"].get("error"):
            what = out["daemon"]["error"]["kind"]
        elif "checks" in out:
            d = next(c for c in out["checks"] if c["id"] == "daemon")
            what = f"daemon check: {d['status']}"
    return took, p.returncode, what


def row(case, argv, host, timeout):
    results = [run(argv, host) for _ in range(RUNS)]
    times = [r[0] for r in results]
    med, worst = statistics.median(times), max(times)
    over = f"{med - timeout:+6.2f} s" if timeout else "      -"
    codes = sorted({r[1] for r in results})
    print(f"{case:<34} {' '.join(argv[:1]):<9} {timeout or '-':>7} {med:>8.2f} s {worst:>8.2f} s {over}   "
          f"exit {','.join(map(str, codes))}  {results[-1][2]}", flush=True)


def header():
    print(f"{'case':<34} {'command':<9} {'timeout':>7} {'median':>10} {'worst':>10} {'over':>8}   ends with")


def diagnose(t):
    return ["diagnose", "--json", "--timeout", str(t), "volume not found"]


def check(t):
    return ["check", "--json", "--timeout", str(t), "--lab", LAB, "--skip", "lab-port"]


@contextlib.contextmanager
def frozen_listener(path: Path):
    """A process listening on path, stopped with SIGSTOP: the kernel accepts, nobody answers."""
    code = ("import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64); "
            "print('ok', flush=True); time.sleep(3600)")
    p = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    os.kill(p.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(p.pid, signal.SIGCONT)
        p.kill()
        p.wait()


def in_process(case, host, timeout):
    """daemon.collect and a conversation turn in this process: no start-up in the figure."""
    from voldoctor import daemon, rules
    from voldoctor.session import Session

    ep = daemon.resolve_endpoint(host)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        st = daemon.collect(ep, timeout)
        times.append(time.perf_counter() - t0)
    kind = st.error.kind if st.error else "answered"
    print(f"{case:<34} {'collect':<9} {timeout:>7} {statistics.median(times):>8.2f} s {max(times):>8.2f} s "
          f"{statistics.median(times) - timeout:+6.2f} s   in-process, {kind}", flush=True)
    s = Session(rules.load(), lambda: (lambda pick: daemon.collect(ep, timeout, pick)), unicode=False)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        s.handle("permission denied")
        times.append(time.perf_counter() - t0)
    print(f"{case:<34} {'turn':<9} {timeout:>7} {statistics.median(times):>8.2f} s {max(times):>8.2f} s "
          f"{statistics.median(times) - timeout:+6.2f} s   in-process conversation turn", flush=True)


def real_frozen_dockerd():
    from support.dockerd import PrivateDaemon

    d = PrivateDaemon()
    try:
        d.start()
        os.kill(d.pid, signal.SIGSTOP)
        try:
            row("real dockerd, frozen (SIGSTOP)", diagnose(2), d.host, 2)
            row("real dockerd, frozen (SIGSTOP)", check(2), d.host, 2)
            in_process("real dockerd, frozen (SIGSTOP)", d.host, 2)
        finally:
            os.kill(d.pid, signal.SIGCONT)
    finally:
        d.stop()


def main(argv):
    global LAB
    tmp = Path(tempfile.mkdtemp(prefix="vdt-bench-"))
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        LAB = str(tmp / "lab.toml")
        Path(LAB).write_text(f'image = "vdt-busybox:latest"\nport = {port}\n')
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voldoctor", "--version"], env=ENV, capture_output=True, check=True)
        print(f"python -m voldoctor --version (start-up): {time.perf_counter() - t0:.2f} s; "
              f"{RUNS} runs per row\n")
        header()
        sock = tmp / "docker.sock"
        row("missing socket", diagnose(2), f"unix://{sock}", 2)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(sock))  # bound, never listening
            row("connection refused", diagnose(2), f"unix://{sock}", 2)
        sock.unlink()
        with fake_daemon(sock, hang):
            for t in (1, 2):
                row("hung (accepts, never answers)", diagnose(t), f"unix://{sock}", t)
            row("hung (accepts, never answers)", check(2), f"unix://{sock}", 2)
            in_process("hung (accepts, never answers)", f"unix://{sock}", 2)
        sock.unlink()
        with frozen_listener(sock):
            row("frozen listener (SIGSTOP)", diagnose(2), f"unix://{sock}", 2)
            row("frozen listener (SIGSTOP)", check(2), f"unix://{sock}", 2)
        sock.unlink()
        with fake_daemon(sock, dribbling_body()):
            row("dribbling answer, 1 byte / 50 ms", diagnose(2), f"unix://{sock}", 2)
        sock.unlink()
        with fake_daemon(sock, dribbling_headers()):
            row("dribbling headers, 1 byte / 50 ms", ["snapshot", "--timeout", "2"], f"unix://{sock}", 2)
        sock.unlink()
        with fake_daemon(sock, endless):
            row("endless answer (64 MiB cap)", diagnose(30), f"unix://{sock}", None)
        if "--no-dockerd" not in argv:
            if os.geteuid() == 0 and shutil.which("dockerd") and not os.environ.get("DOCKER_HOST"):
                real_frozen_dockerd()
            else:
                print("(real dockerd frozen: skipped, needs root and dockerd)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
