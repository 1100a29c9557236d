"""One line, never a traceback; deadlines that hold for the whole exchange;
answers bounded in size."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from support import (dribbling_body, dribbling_headers, endless, fake_daemon, subprocess_env,
                     voldoctor)

ENV = subprocess_env()
vd = voldoctor  # the timeout each call passes only guards against a hang


@pytest.mark.faults
def test_dribbling_daemon_is_cut_off_at_the_timeout(tmp_path):
    """One byte every 50 ms: each read is quick, the whole answer (minutes of
    it) is not. bench/deadlines.py measures how close to --timeout it ends."""
    path = tmp_path / "docker.sock"
    with fake_daemon(path, dribbling_body()):
        p = vd("diagnose", "--json", "--host", f"unix://{path}", "--timeout", "2", "volume not found", timeout=40)
    out = json.loads(p.stdout)
    assert p.returncode == 3 and out["daemon"]["error"]["kind"] == "timeout", p.stdout + p.stderr


@pytest.mark.faults
def test_dribbling_headers_are_cut_off_too(tmp_path):
    path = tmp_path / "docker.sock"
    with fake_daemon(path, dribbling_headers()):
        p = vd("snapshot", "--host", f"unix://{path}", "--timeout", "2", timeout=40)
    assert p.returncode == 3 and "did not answer within 2s" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.faults
def test_endless_answer_is_an_error_naming_the_endpoint(tmp_path):
    path = tmp_path / "docker.sock"
    with fake_daemon(path, endless):
        p = vd("diagnose", "--json", "--host", f"unix://{path}", "--timeout", "30", "volume not found", timeout=60)
    out = json.loads(p.stdout)
    err = out["daemon"]["error"]
    assert p.returncode == 3 and err["kind"] == "too-large", err
    assert str(path) in out["daemon"]["endpoint"] and "64 MiB" in err["detail"]


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "-inf", "ten"])
def test_timeout_must_be_a_finite_positive_number(value):
    p = vd("diagnose", "--offline", "--timeout", value, "volume not found")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--timeout" in p.stderr


@pytest.mark.parametrize("host", ["tcp://[::1", "tcp://[zz::1]:2375", "http://[", "tcp://host:99999"])
def test_odd_docker_host_is_one_line(host):
    p = vd("diagnose", "--json", "volume not found", env={"DOCKER_HOST": host})
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert json.loads(p.stdout)["daemon"]["error"]["kind"] == "bad-endpoint"


def _nested_json(depth: int) -> str:
    return '{"schema_version": 1, "volumes": ' + "[" * depth + "]" * depth + "}"


def test_deeply_nested_snapshot_is_one_line(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text(_nested_json(100000))
    p = vd("diagnose", "--snapshot", str(f), "volume not found")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "nested too deeply" in p.stderr


def test_summarize_lists_a_deep_file_and_summarises_the_rest(tmp_path):
    from support import snapshot
    from voldoctor import state

    good = tmp_path / "good.json"
    good.write_text(state.dump(snapshot("healthy-permission")))
    bad = tmp_path / "deep.json"
    bad.write_text(_nested_json(100000))
    p = vd("summarize", "--json", str(good), str(bad))
    assert p.returncode == 0 and "Traceback" not in p.stderr
    out = json.loads(p.stdout)
    assert out["machines"] == 1 and any("deep.json" in u for u in out["unreadable"])


def test_deeply_nested_toml_rule_is_one_line(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "deep.toml").write_text("x = " + "[" * 50000 + "]" * 50000 + "\n")
    for argv in (["rules", "lint", str(d)], ["diagnose", "--offline", "--rules-dir", str(d), "volume not found"]):
        p = vd(*argv)
        assert p.returncode == 2 and "Traceback" not in p.stderr + p.stdout, p.stderr
        assert "deep.toml" in p.stdout + p.stderr


def _before_voldoctor(err: str) -> bool:
    """The interrupt landed before voldoctor could take Ctrl-C over: in the
    interpreter's own start-up (site, runpy, importlib's locks) or in the
    `import signal` on the first line of voldoctor/__main__.py. No frame of
    the traceback is in voldoctor's code past that line; Python prints those
    itself."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', err)
    ours = [(f, n) for f, n in frames if "voldoctor" in f and not (f.endswith("__main__.py") and n == "1")]
    return "Traceback" in err and not ours


def test_ctrl_c_while_starting_prints_no_traceback():
    """Interrupt at several moments of start-up; never a traceback."""
    for delay in (0.0, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15):
        proc = subprocess.Popen([sys.executable, "-m", "voldoctor", "diagnose", "--offline", "volume not found"],
                                env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        if _before_voldoctor(err):
            continue
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode in (0, 1, 130, -signal.SIGINT), (delay, proc.returncode, err)


@pytest.mark.faults
def test_a_daemon_whose_queue_is_full_is_a_timeout_not_garbage(tmp_path):
    """A frozen daemon that several clients already wait on: its socket's queue
    is full and a new connection is refused at once. That is a daemon not
    answering, not something that answers without the Docker API."""
    import socket

    from voldoctor import daemon

    path = tmp_path / "docker.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(1)  # and never accepts
    try:
        ep = daemon.resolve_endpoint(f"unix://{path}")
        kinds = [daemon.collect(ep, 0.5).error.kind for _ in range(4)]
    finally:
        srv.close()
    assert kinds == ["timeout"] * 4, kinds


def test_an_interrupt_in_disguise_is_still_an_interrupt():
    """pydantic-core turns a Ctrl-C that lands while it builds a validator into a
    SchemaError naming it (seen once in CI at 0.15 s into start-up): that is an
    interrupt (exit 130, one line), not a traceback. Other errors are not."""
    from voldoctor.exits import interrupted

    SchemaError = type("SchemaError", (Exception,), {})
    assert interrupted(SchemaError('Error building "literal" validator:\n  KeyboardInterrupt:'))
    assert interrupted(KeyboardInterrupt())
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as k:
            raise RuntimeError("wrapped") from k
    except RuntimeError as e:
        assert interrupted(e)
    assert not interrupted(SchemaError("Field 'severity' is wrong")) and not interrupted(ValueError("x"))
