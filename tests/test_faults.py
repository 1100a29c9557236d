"""Faults on a daemon of their own: frozen (SIGSTOP), dying between turns and
coming back, dying in the middle of check's round trip. Run alone with
`pytest -m faults`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from support import hang_guard, voldoctor
from support.dockerd import REQUIRE, PrivateDaemon, build_images
from voldoctor import daemon, rules
from voldoctor.session import Session

pytestmark = [pytest.mark.live, pytest.mark.faults]
LABEL = {"label": "io.voldoctor.probe=1"}


def _thaw(d: PrivateDaemon) -> None:
    if d.proc is not None:
        try:
            os.kill(d.pid, signal.SIGCONT)
        except (ProcessLookupError, OSError):
            pass


@pytest.fixture(scope="module")
def faults_daemon(daemon_host):
    """A private daemon of this module's own (never the one the other tests
    use), started once: its tests freeze, kill and restart it."""
    import docker

    d = PrivateDaemon()
    try:
        d.start()
    except Exception as e:  # noqa: BLE001
        d.stop()
        if REQUIRE:
            pytest.fail(f"could not start a second private dockerd: {e}")
        pytest.skip(f"could not start a second private dockerd: {e}")
    try:
        api = docker.APIClient(base_url=d.host, version="auto", timeout=60)
        build_images(api)
        api.close()
        yield d
    finally:
        _thaw(d)
        d.stop()


@pytest.fixture
def own_daemon(faults_daemon):
    """The module's daemon, thawed and running when the test starts, which
    the test may freeze, stop and restart."""
    d = faults_daemon
    _thaw(d)
    if d.proc is None or d.proc.poll() is not None:
        d.proc = None
        d.start()
    try:
        yield d
    finally:
        _thaw(d)


def _session(host: str, timeout: float = 2.0) -> Session:
    ep = daemon.resolve_endpoint(host)
    return Session(rules.load(), lambda: (lambda pick: daemon.collect(ep, timeout, pick)), unicode=False)


def _cli(host, *argv, timeout=60):
    """voldoctor as a child process on host; the timeout only guards against a hang."""
    return voldoctor(*argv, env={"DOCKER_HOST": host}, timeout=timeout)


def test_frozen_daemon(own_daemon):
    """A frozen daemon is a timeout for diagnose, check and the conversation;
    each returns on its own (bench/deadlines.py measures how soon)."""
    host = own_daemon.host
    s = _session(host)
    s.handle("volume not found")
    assert s.state.reachable
    os.kill(own_daemon.pid, signal.SIGSTOP)
    try:
        p = _cli(host, "diagnose", "--timeout", "2", "--json", "volume not found", timeout=30)
        out = json.loads(p.stdout)
        assert p.returncode == 3, p.stderr
        assert out["daemon"]["error"]["kind"] == "timeout"
        assert out["diagnoses"][0]["rule"] == "daemon-not-responding"
        assert "did not answer" in out["diagnoses"][0]["message"]

        p = _cli(host, "check", "--timeout", "2", "--json", "--skip", "lab-port", timeout=30)
        out = json.loads(p.stdout)
        st = {c["id"]: c for c in out["checks"]}
        assert p.returncode == 1, p.stderr
        assert st["daemon"]["status"] == "fail" and "did not answer" in st["daemon"]["message"]

        with hang_guard(lambda: os.kill(own_daemon.pid, signal.SIGCONT)):
            r = s.handle("permission denied")
        assert "did not answer" in r.text
    finally:
        os.kill(own_daemon.pid, signal.SIGCONT)
    r = s.handle("permission denied")
    assert "answers again" in r.text


def test_daemon_dies_between_turns_and_comes_back(own_daemon):
    host = own_daemon.host
    s = _session(host, timeout=5)
    r = s.handle("data in /app/data is gone after docker rm")
    assert s.state.reachable and s.focus.path == "/app/data"
    own_daemon.stop(keep=True)
    r = s.handle("check again")
    assert "stopped answering" in r.text
    assert s.focus.path == "/app/data" and s.last_question is not None  # the conversation is kept
    own_daemon.start()
    r = s.handle("check again")
    assert "answers again" in r.text
    assert s.state.reachable


def test_daemon_dies_during_round_trip_and_next_run_cleans_up(own_daemon, tmp_path):
    host = own_daemon.host
    lab = tmp_path / "lab.toml"
    lab.write_text('image = "vdt-busybox:latest"\nport = 1\n')
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_HOST"] = host
    proc = subprocess.Popen([sys.executable, "-m", "voldoctor", "check", "--lab", str(lab), "--ascii", "--timeout", "5",
                             "--only", "scratch-volume", "roundtrip", "roundtrip-nonroot"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline() + proc.stdout.readline()  # the header, then scratch-volume's line
    assert "Create, inspect and remove a volume" in first, first
    own_daemon.stop(keep=True)  # the round trip is under way now
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err
    assert "[x]" in out  # a failed check, with its reason
    own_daemon.start()
    import docker

    api = docker.APIClient(base_url=host, version="auto", timeout=30)
    try:
        p = _cli(host, "check", "--lab", str(lab), "--only", "scratch-volume", "--json")
        assert p.returncode == 0, p.stdout + p.stderr
        assert api.containers(all=True, filters=LABEL) == []
        assert (api.volumes(filters=LABEL) or {}).get("Volumes") in (None, [])
    finally:
        api.close()


def test_home_missing_or_not_a_folder(tmp_path, daemon_host):
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    for home in ("/nonexistent-home-vdt", str(not_dir)):
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT", "XDG_STATE_HOME", "DOCKER_CONFIG")}
        env.update(HOME=home, DOCKER_HOST=daemon_host)
        p = subprocess.run([sys.executable, "-m", "voldoctor", "diagnose", "volume not found", "--volume", "x"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stderr
        assert "The volume does not exist" in p.stdout
        p = subprocess.run([sys.executable, "-m", "voldoctor"], input="volume not found\nx\n/quit\n", env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "Traceback" not in p.stderr and "does not exist" in p.stdout


def test_daemon_freezes_during_round_trip(own_daemon, tmp_path):
    """A frozen daemon in the middle of check's round trip: failed checks and a
    summary, never a traceback; the next run, daemon thawed, leaves nothing."""
    host = own_daemon.host
    lab = tmp_path / "lab.toml"
    lab.write_text('image = "vdt-busybox:latest"\nport = 1\n')
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_HOST"] = host
    proc = subprocess.Popen([sys.executable, "-m", "voldoctor", "check", "--lab", str(lab), "--ascii", "--timeout", "2",
                             "--only", "scratch-volume", "roundtrip", "roundtrip-nonroot"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline() + proc.stdout.readline()
    assert "Create, inspect and remove a volume" in first, first
    os.kill(own_daemon.pid, signal.SIGSTOP)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        os.kill(own_daemon.pid, signal.SIGCONT)
    assert "Traceback" not in err, err
    assert proc.returncode == 1, (out, err)
    assert "[x]" in out and out.splitlines()[-1].startswith("Summary: ") and "not ready" in out.splitlines()[-1], out
    p = _cli(host, "check", "--lab", str(lab), "--only", "scratch-volume", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
