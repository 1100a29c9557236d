"""`voldoctor check` on the private daemon: every check in its pass and fail states."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from support import as_nobody, busy_port, fake_daemon, free_port, hang, hang_guard, snapshot
from voldoctor import check

LABEL = {"label": "io.voldoctor.probe=1"}


@pytest.fixture
def profile(tmp_path):
    def make(**kw):
        p = tmp_path / "lab.toml"
        base = {"image": "vdt-busybox:latest", "port": free_port(), "volume": "my-data", "path": "/app/data"}
        base.update(kw)
        p.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in base.items()) + "\n")
        return str(p)

    return make


def _by_id(out):
    return {c["id"]: c for c in out["checks"]}


def _labelled(lab):
    return (lab.api.containers(all=True, filters=LABEL), (lab.api.volumes(filters=LABEL) or {}).get("Volumes") or [])


@pytest.mark.live
def test_healthy_machine_all_pass(on_daemon, cli_json, profile, lab):
    code, out = cli_json("check", "--lab", profile())
    assert code == 0, out
    st = {c["id"]: c["status"] for c in out["checks"]}
    assert set(st) == set(check.ids())
    assert all(v == "pass" for v in st.values()), st
    assert out["summary"]["fail"] == 0 and out["summary"]["exit_code"] == 0
    assert all(set(c) == {"id", "title", "status", "message", "fix", "duration_ms"} for c in out["checks"])
    assert "wrote a file" in _by_id(out)["roundtrip"]["message"]
    assert _labelled(lab) == ([], [])


@pytest.mark.live
def test_image_absent_warns_and_strict_fails(on_daemon, cli_json, profile):
    p = profile(image="vdt-not-here:latest")
    code, out = cli_json("check", "--lab", p)
    c = _by_id(out)
    assert code == 0
    assert c["lab-image"]["status"] == "warn" and "docker pull vdt-not-here:latest" in c["lab-image"]["fix"][0]
    assert c["roundtrip"]["status"] == "skip" and "--image" in c["roundtrip"]["message"]
    code, out = cli_json("check", "--lab", p, "--strict")
    assert code == 1


@pytest.mark.live
def test_port_taken(on_daemon, cli_json, profile):
    with busy_port() as port:
        code, out = cli_json("check", "--lab", profile(port=port), "--only", "lab-port")
    assert code == 1
    assert _by_id(out)["lab-port"]["status"] == "fail" and str(port) in _by_id(out)["lab-port"]["message"]


@pytest.mark.live
def test_leftover_volume_is_information(on_daemon, cli_json, profile, lab):
    lab.volume("my-data")
    code, out = cli_json("check", "--lab", profile(), "--only", "leftovers")
    c = _by_id(out)["leftovers"]
    assert code == 0 and c["status"] == "pass" and "volume my-data" in c["message"]


def test_daemon_down_fails_and_skips_children(cli_json, tmp_path, profile):
    code, out = cli_json("check", "--host", f"unix://{tmp_path}/none.sock", "--lab", profile())
    c = _by_id(out)
    assert code == 1 and c["socket"]["status"] == "fail" and "no socket" in c["socket"]["message"]
    assert c["socket"]["fix"]
    assert c["daemon"]["status"] == "skip" and "socket failed" in c["daemon"]["message"]
    assert c["roundtrip"]["status"] == "skip"


def test_hung_daemon_is_a_timeout_failure(cli_json, tmp_path, profile):
    """A daemon that accepts and never answers: the daemon check fails with
    the timeout (bench/deadlines.py measures how soon)."""
    path = tmp_path / "docker.sock"
    with fake_daemon(path, hang) as stop, hang_guard(stop.set):
        code, out = cli_json("check", "--host", f"unix://{path}", "--timeout", "1", "--lab", profile())
    c = _by_id(out)
    assert code == 1 and c["daemon"]["status"] == "fail"
    assert "did not answer within 1s" in c["daemon"]["message"]
    assert c["roundtrip"]["status"] == "skip"


@pytest.mark.live
def test_socket_unreadable_for_non_root(daemon_host, profile):
    from voldoctor import daemon, rules

    rs = rules.load()
    prof = check.load_profile(profile())

    def run():
        ep = daemon.resolve_endpoint(daemon_host)
        ctx = check.Context(profile=prof, timeout=5, rules=rs, endpoint=ep, state=daemon.collect(ep, 5))
        return {c.id: [r.status, r.message] for c, r in check.run_checks(ctx, check.selected([], ["lab-port"]))}

    got = as_nobody(run)
    assert got["socket"][0] == "fail" and "not allowed to open it" in got["socket"][1]
    assert got["daemon"][0] == "skip"


def test_list_and_unknown_ids(cli):
    code, out, err = cli("check", "--list")
    assert code == 0 and all(i in out for i in check.ids())
    code, out, err = cli("check", "--only", "rondtrip")
    assert code == 2 and "did you mean 'roundtrip'" in err


def test_bad_lab_profile(cli, tmp_path):
    p = tmp_path / "lab.toml"
    p.write_text('imgae = "x"\n')
    code, out, err = cli("check", "--lab", str(p))
    assert code == 2 and "lab.toml" in err and err.count("\n") == 1


def test_replay_skips_what_needs_a_live_daemon(cli_json, tmp_path, profile):
    from voldoctor import state as st

    snap = tmp_path / "s.json"
    snap.write_text(st.dump(snapshot("healthy-permission")))
    code, out = cli_json("check", "--snapshot", str(snap), "--lab", profile())
    c = _by_id(out)
    assert out["replay"] is True
    assert c["daemon"]["status"] == "pass"
    assert c["roundtrip"]["status"] == "skip" and "replay" in c["roundtrip"]["message"]
    assert "volume my-data" in c["leftovers"]["message"]


DEAD = {"io.voldoctor.probe": "1", "io.voldoctor.probe.pid": "999999999", "io.voldoctor.probe.host": socket.gethostname()}


@pytest.mark.live
def test_stale_probe_objects_are_removed(on_daemon, cli_json, profile, lab, monkeypatch):
    """A leftover of a dead run, with the name and labels voldoctor gives, is removed."""
    lab.api.create_volume("voldoctor-probe-0123456789", labels=DEAD)
    lab.container("voldoctor-probe-0123456789ab", start=False, labels=DEAD)
    code, out = cli_json("check", "--lab", profile(), "--only", "scratch-volume")
    assert "removed 2 leftover" in _by_id(out)["scratch-volume"]["message"]
    assert _labelled(lab) == ([], [])


@pytest.mark.live
def test_impostors_carrying_the_label_are_never_removed(on_daemon, cli_json, profile, lab, monkeypatch):
    """Labels are copied by images and can be typed by anyone: a learner's
    running container and its volume that carry them, an object with the
    label but another name, and a running container with our very name
    shape all stay; check reports them with the command to remove them."""
    monkeypatch.setattr(check, "STALE_AFTER", 0)
    vol = lab.volume(lab.name("precious"), labels=DEAD)
    lab.container(lab.name("web"), binds=[f"{vol}:/data"], labels=DEAD)
    lab.api.create_volume("voldoctor-probe-crashed", labels=DEAD)  # not a name voldoctor gives
    lab.volumes.append("voldoctor-probe-crashed")
    lab.container("voldoctor-probe-aaaaaaaaaaaa", labels=DEAD)  # our shape, but running
    before = {c["Id"]: c["State"] for c in lab.api.containers(all=True)}
    code, out = cli_json("check", "--lab", profile(), "--only", "scratch-volume")
    r = _by_id(out)["scratch-volume"]
    assert r["status"] == "warn", r
    assert "removed" not in r["message"]
    for name in (lab.name("web"), "voldoctor-probe-crashed", "voldoctor-probe-aaaaaaaaaaaa"):
        assert name in r["message"]
    assert any(f"docker volume rm {vol}" in f for f in r["fix"])
    assert {c["Id"]: c["State"] for c in lab.api.containers(all=True)} == before
    names = {v["Name"] for v in lab.api.volumes()["Volumes"]}
    assert {vol, "voldoctor-probe-crashed"} <= names


@pytest.mark.live
def test_sigint_mid_run_leaves_nothing(daemon_host, profile, lab):
    """Interrupt the round trip at several moments; no labelled object survives."""
    env = {**os.environ, "DOCKER_HOST": daemon_host}
    p = profile()
    hits = 0
    for delay in (0.0, 0.03, 0.08, 0.15, 0.25, 0.4):
        proc = subprocess.Popen([sys.executable, "-m", "voldoctor", "check", "--lab", p, "--only", "scratch-volume",
                                 "roundtrip", "roundtrip-nonroot"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        head = proc.stdout.readline() + proc.stdout.readline()  # the header, then scratch-volume's line
        assert "Create, inspect and remove a volume" in head, head
        time.sleep(delay)  # now the round trip is running
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        hits += proc.returncode == 130
        assert "Traceback" not in err
        assert _labelled(lab) == ([], []), (delay, out, err)
    assert hits >= 1  # at least one interrupt landed while the checks ran


def test_damaged_docker_config_gets_the_same_fix_as_diagnose(cli_json, tmp_path, monkeypatch):
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": ')
    monkeypatch.setenv("HOME", str(tmp_path))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG"):
        monkeypatch.delenv(k, raising=False)
    code, out = cli_json("check", "--only", "endpoint")
    r = _by_id(out)["endpoint"]
    assert code == 1 and r["status"] == "fail" and "not valid JSON" in r["message"]
    assert any("json.tool" in f for f in r["fix"]) and not any("unset DOCKER_HOST" in f for f in r["fix"])


def test_port_is_unknown_without_a_daemon(cli_json, profile, tmp_path, monkeypatch):
    """With no answer from the daemon, a container could still hold the port: never 'free'."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    code, out = cli_json("check", "--lab", profile(), "--only", "lab-port")
    r = _by_id(out)["lab-port"]
    assert r["status"] == "skip" and r["message"].startswith("unknown")


def test_near_miss_volume_is_reported_from_a_snapshot(cli_json, tmp_path, profile):
    """my_data beside the lab's my-data: a warning with what each holds and how to look inside both."""
    from voldoctor import state as st

    snap = tmp_path / "s.json"
    snap.write_text(st.dump(snapshot("near-miss-after")))
    code, out = cli_json("check", "--snapshot", str(snap), "--lab", profile(), "--only", "leftovers")
    r = _by_id(out)["leftovers"]
    assert r["status"] == "warn", r
    assert "my_data is a near miss of the lab's my-data" in r["message"]
    assert "my-data: 3 B" in r["message"] and "my_data: empty" in r["message"] and "vdt-web2" in r["message"]
    assert any("-v my-data:/v1:ro -v my_data:/v2:ro" in f for f in r["fix"])
    assert any("docker volume inspect my-data my_data" in f for f in r["fix"])


@pytest.mark.live
def test_near_miss_volume_is_reported_live(on_daemon, cli_json, profile, lab):
    lab.volume("my-data")
    lab.volume("my_data")
    code, out = cli_json("check", "--lab", profile(), "--only", "leftovers")
    r = _by_id(out)["leftovers"]
    assert code == 0 and r["status"] == "warn", r
    assert "my_data is a near miss of the lab's my-data" in r["message"]
    assert any("docker volume inspect my-data my_data" in f for f in r["fix"])


def test_the_summary_does_not_call_a_machine_with_warnings_simply_ready():
    from voldoctor.render import check_summary_line

    base = {"pass": 12, "fail": 0, "skip": 0, "exit_code": 0}
    assert check_summary_line({**base, "warn": 0}, 1.0).endswith("; ready for the lab.")
    assert "once the warnings above are dealt with or accepted" in check_summary_line({**base, "warn": 1}, 1.0)
