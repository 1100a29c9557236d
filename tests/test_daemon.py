"""The door to the daemon: endpoint resolution and every way of failing.

Failures are provoked for real: a missing socket, a socket nobody listens
on, one that never answers, one that answers garbage, a socket the user may
not open (a child process that drops root), a daemon that was stopped."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest

from support import as_nobody, fake_daemon, hang, hang_guard
from support.dockerd import PrivateDaemon
from voldoctor import daemon


def _diag(cli_json, host, *extra, timeout="2"):
    return cli_json("diagnose", "volume not found", "--volume", "x", "--host", host, "--timeout", timeout, *extra)


# ------------------------------------------------------------ resolution


def test_host_flag_wins(monkeypatch):
    ep = daemon.resolve_endpoint("unix:///tmp/a.sock", env={"DOCKER_HOST": "unix:///tmp/b.sock"})
    assert ep.url == "unix:///tmp/a.sock" and ep.origin == "--host"


def test_docker_host_then_context(tmp_path):
    env = {"DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_CONTEXT": "nope", "DOCKER_CONFIG": str(tmp_path)}
    assert daemon.resolve_endpoint(None, env).url == "tcp://127.0.0.1:2375"


def _make_context(cfg: Path, name: str, host: str, current: bool = True):
    d = cfg / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {},
                                             "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    if current:
        (cfg / "config.json").write_text(json.dumps({"currentContext": name}))
    return d / "meta.json"


def test_current_context_from_config(tmp_path):
    _make_context(tmp_path, "lab", "unix:///tmp/lab.sock")
    ep = daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)})
    assert (ep.url, ep.context, ep.origin) == ("unix:///tmp/lab.sock", "lab", "config")


def test_docker_context_env_beats_config(tmp_path):
    _make_context(tmp_path, "lab", "unix:///tmp/lab.sock")
    _make_context(tmp_path, "other", "unix:///tmp/other.sock", current=False)
    ep = daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "other"})
    assert ep.url == "unix:///tmp/other.sock" and ep.origin == "DOCKER_CONTEXT"


def test_default_context_is_default_socket(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)}).url == daemon.DEFAULT_SOCKET


@pytest.mark.parametrize("env,needle", [
    ({"DOCKER_HOST": "tcp//oops"}, "DOCKER_HOST 'tcp//oops' is not a daemon address"),
    ({"DOCKER_HOST": "tcp://host:99999"}, "invalid port"),
    ({"DOCKER_CONTEXT": "ghost"}, "docker context 'ghost' (DOCKER_CONTEXT) does not exist"),
])
def test_bad_endpoints(env, needle, tmp_path):
    with pytest.raises(daemon.EndpointError) as e:
        daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path), **env})
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_corrupt_context_metadata(tmp_path):
    meta = _make_context(tmp_path, "broken", "unix:///x")
    meta.write_text("{not json")
    with pytest.raises(daemon.EndpointError, match="unreadable metadata"):
        daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)})


def test_bad_endpoint_is_a_diagnosis_not_a_traceback(cli_json, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", "tcp//oops")
    code, out = cli_json("diagnose", "volume not found")
    assert code == 3
    assert out["diagnoses"][0]["rule"] == "daemon-endpoint-wrong"
    assert "tcp//oops" in out["diagnoses"][0]["message"]


# ------------------------------------------------------------ real failures


def test_socket_missing(cli_json, tmp_path):
    host = f"unix://{tmp_path}/docker.sock"
    code, out = _diag(cli_json, host)
    assert code == 3
    assert out["daemon"]["error"]["kind"] == "socket-missing"
    assert out["diagnoses"][0]["rule"] == "daemon-not-running"
    assert host in out["diagnoses"][0]["message"]


def test_connection_refused(cli_json, tmp_path):
    path = tmp_path / "docker.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))  # bound, never listening: connect is refused
    try:
        code, out = _diag(cli_json, f"unix://{path}")
    finally:
        s.close()
    assert code == 3 and out["daemon"]["error"]["kind"] == "connection-refused"
    assert out["diagnoses"][0]["rule"] == "daemon-not-running"


def test_plain_file_is_not_a_socket(cli_json, tmp_path):
    path = tmp_path / "docker.sock"
    path.write_text("hello")
    code, out = _diag(cli_json, f"unix://{path}")
    assert code == 3 and out["diagnoses"][0]["rule"] in ("daemon-not-running", "daemon-endpoint-wrong")
    assert str(path) in out["diagnoses"][0]["message"]


def test_hung_daemon_is_a_timeout(cli_json, tmp_path):
    """A daemon that accepts and never answers is a timeout, not a hang
    (bench/deadlines.py measures how close to --timeout it ends)."""
    path = tmp_path / "docker.sock"
    with fake_daemon(path, hang) as stop, hang_guard(stop.set):
        code, out = _diag(cli_json, f"unix://{path}", timeout="1.5")
    assert code == 3 and out["daemon"]["error"]["kind"] == "timeout"
    assert out["diagnoses"][0]["rule"] == "daemon-not-responding"
    assert "did not answer within 1.5s" in out["diagnoses"][0]["message"] and str(path) in out["diagnoses"][0]["message"]


@pytest.mark.parametrize("reply", [b"hello, I am not docker\r\n\r\n", b"", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnope!"])
def test_garbage_answers(cli_json, tmp_path, reply):
    path = tmp_path / "docker.sock"

    def garbage(conn, stop):
        try:
            conn.recv(4096)
            conn.sendall(reply)
        finally:
            conn.close()

    with fake_daemon(path, garbage):
        code, out = _diag(cli_json, f"unix://{path}")
    assert code == 3
    assert out["daemon"]["error"]["kind"] == "not-docker", out["daemon"]
    assert out["diagnoses"][0]["rule"] == "daemon-endpoint-wrong"


@pytest.mark.live
def test_socket_permission_denied_as_unprivileged_user(daemon_host):
    """A child drops root (uid/gid 65534, no groups) and asks the real daemon."""
    from voldoctor import engine, rules

    rs = rules.load()

    def run():
        ep = daemon.resolve_endpoint(daemon_host)
        a = engine.answer("docker ps: permission denied", rs, lambda pick: daemon.collect(ep, 5, pick))
        return {"code": int(a.exit_code), "rules": [d.rule for d in a.diagnoses],
                "kind": a.state.error.kind if a.state.error else None,
                "msg": a.diagnoses[0].message if a.diagnoses else ""}

    got = as_nobody(run)
    assert got["kind"] == "permission-denied"
    assert got["code"] == 3
    assert got["rules"][0] == "daemon-socket-permission"
    assert daemon_host.removeprefix("unix://") in got["msg"]


@pytest.mark.live
def test_stopped_daemon(cli_json, daemon_host):
    d = PrivateDaemon()
    try:
        d.start()
        host = d.host
        code, out = _diag(cli_json, host)
        assert code == 0 or code == 1
        assert out["daemon"]["reachable"] is True
    finally:
        d.stop()  # a failed assertion must not leave a daemon running
    code, out = _diag(cli_json, host)
    assert code == 3 and out["daemon"]["error"]["kind"] in ("socket-missing", "connection-refused")
    assert out["diagnoses"][0]["rule"] == "daemon-not-running"
    assert host in out["diagnoses"][0]["message"]


@pytest.mark.live
def test_context_leads_to_the_daemon(cli_json, daemon_host, tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    _make_context(tmp_path, "course", daemon_host)
    code, out = cli_json("diagnose", "volume not found", "--volume", "surely-not-there-123")
    assert out["daemon"]["reachable"] is True and out["daemon"]["context"] == "course"
    assert out["diagnoses"][0]["rule"] == "volume-missing"


def test_tls_without_certificates(cli_json, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    code, out = cli_json("diagnose", "volume not found", "--timeout", "2")
    assert code == 3 and out["daemon"]["error"]["kind"] == "tls"
    assert out["diagnoses"][0]["rule"] == "daemon-endpoint-wrong"


def test_ssh_endpoint_failure_is_named(cli_json):
    code, out = cli_json("diagnose", "volume not found", "--host", "ssh://nobody@127.0.0.1:1", "--timeout", "2")
    assert code == 3 and out["daemon"]["error"]["kind"] in ("ssh", "connection-refused")
    assert "ssh://nobody@127.0.0.1:1" in out["diagnoses"][0]["message"]


def test_corrupt_cli_config_is_named_as_such(tmp_path, cli_json, cli, monkeypatch):
    cfg = tmp_path / "config.json"
    cfg.write_text('{\n  "currentContext": "lab",\n}\n')
    with pytest.raises(daemon.EndpointError) as e:
        daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)})
    assert e.value.error.kind == "config-corrupt"
    assert f"the docker CLI config {cfg} is not valid JSON (line 3 column 1" in str(e.value)
    assert "\n" not in str(e.value)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    code, out = cli_json("diagnose", "cannot connect to the docker daemon")
    assert code == 3 and out["daemon"]["error"]["kind"] == "config-corrupt"
    assert [d["rule"] for d in out["diagnoses"]] == ["docker-config-corrupt"]
    assert f"python3 -m json.tool {cfg}" in out["diagnoses"][0]["fix"][0]
    code, text, err = cli("diagnose", "cannot connect to the docker daemon")
    assert str(cfg) in text.splitlines()[0] and "damaged" in text.splitlines()[0]
    cfg.write_text("[1, 2]")
    with pytest.raises(daemon.EndpointError, match="not an object") as e:
        daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)})
    assert e.value.error.kind == "config-corrupt"
    cfg.write_text("")  # the docker CLI reads an empty file as no settings at all
    assert daemon.resolve_endpoint(None, {"DOCKER_CONFIG": str(tmp_path)}).url == daemon.DEFAULT_SOCKET
