"""Reports, replay and the class summary."""

from __future__ import annotations

import json

import pytest

from support import snapshot, talk
from voldoctor import report, rules

RS = rules.load()


def _with_secrets(name="uid-mismatch"):
    s = snapshot(name)
    c = s.containers[0]
    c2 = c.model_copy(update={"labels": {"db_password": "hunter2", "API_TOKEN": "tok-123", "team": "blue"}})
    return s.model_copy(update={"containers": (c2,) + s.containers[1:], "local_user": "alice",
                                "info": s.info.model_copy(update={"name": "alice-laptop"})})


def test_secret_labels_are_masked():
    rep = report.build(_with_secrets(), RS)
    text = json.dumps(rep)
    assert "hunter2" not in text and "tok-123" not in text
    labels = rep["state"]["containers"][0]["labels"]
    assert labels == {"db_password": "***", "API_TOKEN": "***", "team": "blue"}


def test_conversation_secrets_masked():
    rep = report.build(snapshot("uid-mismatch"), RS, conversation=[
        ("docker run -e POSTGRES_PASSWORD=s3cret --db-password hunter2 x", "ok")])
    you = rep["conversation"][0]["you"]
    assert "s3cret" not in you and "hunter2" not in you and "POSTGRES_PASSWORD=***" in you


def test_anonymize_is_consistent_and_replayable(tmp_path, cli_json):
    base = _with_secrets()
    c = base.containers[0]
    home = "/home/alice/lab/data"
    m2 = c.mounts[0].model_copy(update={"type": "bind", "name": "", "source": home})
    stats = dict(base.path_stats)
    stats[home] = base.path_stats[c.mounts[0].source]
    s = base.model_copy(update={"containers": (c.model_copy(update={"mounts": (m2,)}),), "path_stats": stats})
    rep = report.build(s, RS, anonymize=True)
    text = json.dumps(rep)
    assert "alice" not in text
    src = rep["state"]["containers"][0]["mounts"][0]["source"]
    assert src == "/home/user1/lab/data" and src in rep["state"]["path_stats"]
    assert rep["state"]["local_user"] == "user1" and rep["machine"].startswith("host")
    p = tmp_path / "anon.json"
    p.write_text(json.dumps(rep))
    code, out = cli_json("diagnose", "--snapshot", str(p), "touch: /data/f: Permission denied")
    assert out["diagnoses"][0]["rule"] == "uid-mismatch"
    assert out["diagnoses"][0]["evidence"]["mount.name"] == "/home/user1/lab/data"


def test_markdown_is_refused_where_json_is_needed(tmp_path, cli):
    rep = report.build(snapshot("uid-mismatch"), RS)
    p = tmp_path / "me.md"
    p.write_text(report.markdown(rep))
    code, out, err = cli("diagnose", "--snapshot", str(p), "permission denied")
    assert code == 2 and "markdown report" in err and err.count("\n") == 1


def test_unknown_report_version(tmp_path, cli):
    rep = report.build(snapshot("uid-mismatch"), RS)
    rep["report_version"] = 7
    p = tmp_path / "r.json"
    p.write_text(json.dumps(rep))
    code, out, err = cli("summarize", str(p))
    assert code == 2 and "report version 7" in err


def test_markdown_has_summary_findings_tables():
    md = report.markdown(report.build(snapshot("uid-mismatch"), RS))
    assert md.startswith("# voldoctor report")
    assert "## Findings" in md and "uid-mismatch" in md
    assert "| name | driver | size | mountpoint |" in md and "| vdt-writer |" in md


def test_class_summary_most_common_first(tmp_path, cli, cli_json):
    plan = {"uid-mismatch": 12, "path-mismatch": 8, "read-only": 5, "healthy-permission": 5}
    paths = []
    for name, n in plan.items():
        rep = report.build(snapshot(name), RS)
        for i in range(n):
            rep["machine"] = f"{name}-{i}"
            p = tmp_path / f"{name}-{i}.json"
            p.write_text(json.dumps(rep))
            paths.append(str(p))
    code, out = cli_json("summarize", *paths)
    assert code == 0 and out["machines"] == 30
    top = out["rules"][0]
    assert top["rule"] == "uid-mismatch" and top["count"] == 12
    assert all(a["count"] >= b["count"] for a, b in zip(out["rules"], out["rules"][1:]))
    code, text, _ = cli("summarize", *paths)
    assert text.splitlines()[1].split()[:2] == ["12", "uid-mismatch"]


def test_repl_report_command(tmp_path):

    s, _ = talk(snapshot("uid-mismatch"))
    s.handle("touch: /data/f: Permission denied")
    assert "not available here" in s.handle("/report").text

    class A:
        pass

    from voldoctor import repl

    out = tmp_path / "me.json"
    s.reporter = lambda sess, arg: repl.write_report(sess, arg, A())
    r = s.handle(f"/report {out}")
    assert "Saved" in r.text
    rep = json.loads(out.read_text())
    assert rep["conversation"][0]["you"] == "touch: /data/f: Permission denied"
    assert "uid 1000" in rep["conversation"][0]["voldoctor"]
    assert rep["conversation"][0]["rules"] == ["uid-mismatch"]


@pytest.mark.live
def test_learner_report_replays_elsewhere(lab, on_daemon, tmp_path, cli, cli_json, monkeypatch):
    lab.volume("vdt-rep")
    lab.container("vdt-repwriter", user="1000", binds=["vdt-rep:/data"])
    live_code, live = cli_json("diagnose", "permission denied")
    p = tmp_path / "me.json"
    code, out, err = cli("report", "-o", str(p))
    assert code == 0 and p.exists()
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # the TA has no daemon at all
    code, replay = cli_json("diagnose", "--snapshot", str(p), "permission denied")
    assert [d["rule"] for d in replay["diagnoses"]] == [d["rule"] for d in live["diagnoses"]]
    assert [d["message"] for d in replay["diagnoses"]] == [d["message"] for d in live["diagnoses"]]
    assert replay["daemon"]["replay"] is True


# ------------------------------------------------------------ redaction

LEAKS = {  # what a learner may paste, and the secret in it that must not travel
    "docker run -e aws_secret_access_key=wJalrXUtnFEMI/K7MDENG x": "wJalrXUtnFEMI",
    "export DB_PASS=hunter2": "hunter2",
    "db_pass=lower-case-pw and Db_Pwd='mixed case pw'": "case-pw",
    "PASS=plainpass": "plainpass",
    "MYSQL_PWD=sqlpw9 mysql -u root": "sqlpw9",
    "docker login -u bob -p l0gin-pw registry.example": "l0gin-pw",
    "docker login -u bob -pattached-pw": "attached-pw",
    "docker login --password=p4ss --username bob": "p4ss",
    "DATABASE_URL is postgres://bob:pw123@db/x": "pw123",
    "git clone https://ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/me/lab": "A1b2C3d4E5f6",
    "token github_pat_11AAAAAAA0bbbbbbbbbbbb_cccccccccccccccc": "bbbbbbbbbbbb_cccc",
    "key id AKIAIOSFODNN7EXAMPLE": "IOSFODNN7EXAMPLE",
    "gitlab glpat-xxxxxxxxxxyyyyyyyyyy": "xxxxxxxxxxyyyyyyyyyy",
    "slack xoxb-123456789012-abcdefabcdef": "123456789012-abcdef",
}


@pytest.mark.parametrize("said,secret", LEAKS.items())
def test_conversation_secrets_of_every_shape_are_masked(said, secret):
    rep = report.build(snapshot("uid-mismatch"), RS, conversation=[(said, f"you said: {said}")])
    text = json.dumps(rep) + report.markdown(rep)
    assert secret not in text
    assert "***" in rep["conversation"][0]["you"] and "***" in rep["conversation"][0]["voldoctor"]


def test_harmless_text_is_left_alone():
    for said in ["docker run -d -p 8965:80 -v my_secrets:/run/secrets -v my-key:/k busybox",
                 "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)",
                 "docker volume inspect my-data", "echo $PW | docker login --password-stdin -u bob"]:
        assert report.redact_text(said) == said


def _with_url_label(anonymize: bool):
    s = snapshot("uid-mismatch")
    c = s.containers[0]
    c2 = c.model_copy(update={"labels": {"db_url": "postgres://bob:pw123@db/x", "team": "blue"}})
    return report.build(s.model_copy(update={"containers": (c2,)}), RS, anonymize=anonymize)


@pytest.mark.parametrize("anonymize", [False, True])
def test_url_credentials_in_labels_are_masked(anonymize):
    rep = _with_url_label(anonymize)
    assert "pw123" not in json.dumps(rep) + report.markdown(rep)
    assert rep["state"]["containers"][0]["labels"] == {"db_url": "postgres://bob:***@db/x", "team": "blue"}


def test_anonymize_masks_hosts_and_every_home_folder(monkeypatch, tmp_path, cli_json):
    monkeypatch.setattr("socket.gethostname", lambda: "alices-laptop")
    base = snapshot("uid-mismatch")  # voldoctor ran as root here: the home folder is the only trace of bob
    c = base.containers[0]
    home = "/home/bob/proj"
    m2 = c.mounts[0].model_copy(update={"type": "bind", "name": "", "source": home})
    stats = dict(base.path_stats)
    stats[home] = base.path_stats[c.mounts[0].source]
    s = base.model_copy(update={"containers": (c.model_copy(update={"mounts": (m2,)}),), "path_stats": stats,
                                "endpoint": base.endpoint.model_copy(update={"url": "tcp://build-box.lab.lan:2376"})})
    convo = [("on alices-laptop my files are in /home/carol/data and C:\\Users\\dave\\lab", "ok")]
    rep = report.build(s, RS, anonymize=True, conversation=convo)
    text = json.dumps(rep) + report.markdown(rep)
    for name in ("bob", "carol", "dave", "alices-laptop", "build-box"):
        assert name not in text, name
    assert rep["state"]["containers"][0]["mounts"][0]["source"] == "/home/user1/proj"
    assert rep["state"]["endpoint"]["url"].startswith("tcp://host") and rep["state"]["endpoint"]["url"].endswith(":2376")
    assert "on host" in rep["conversation"][0]["you"]
    p = tmp_path / "anon.json"
    p.write_text(json.dumps(rep))
    code, out = cli_json("diagnose", "--snapshot", str(p), "touch: /data/f: Permission denied")
    assert out["diagnoses"][0]["evidence"]["mount.name"] == "/home/user1/proj"


def test_snapshot_is_redacted_unless_raw(tmp_path, cli):
    from voldoctor import state as st

    s = _with_secrets()
    c = s.containers[0]
    c2 = c.model_copy(update={"labels": {**c.labels, "db_url": "postgres://bob:pw123@db/x"}})
    src = tmp_path / "in.json"
    src.write_text(st.dump(s.model_copy(update={"containers": (c2,) + s.containers[1:]})))
    code, out, err = cli("snapshot", "--snapshot", str(src))
    assert code == 0
    for secret in ("hunter2", "tok-123", "pw123"):
        assert secret not in out
    saved = st.loads(out)  # still a snapshot that replays
    assert saved.containers[0].labels["db_url"] == "postgres://bob:***@db/x"
    assert saved.containers[0].labels["team"] == "blue"
    code, out, err = cli("snapshot", "--snapshot", str(src), "--raw")
    assert code == 0 and "hunter2" in out and "pw123" in out


def test_repl_report_masks_the_conversation_in_json_and_markdown(tmp_path):
    s, _ = talk(snapshot("uid-mismatch"))

    class A:
        pass

    from voldoctor import repl

    s.reporter = lambda sess, arg: repl.write_report(sess, arg, A())
    s.handle("docker run -e DB_PASS=hunter2 -v data:/data busybox")
    s.handle("docker run --label token=labelsecret9 -v data:/data busybox")
    s.handle("my token is ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 and postgres://bob:pw123@db/x")
    for name in ("me.json", "me.md"):
        assert "Saved" in s.handle(f"/report {tmp_path / name}").text
        text = (tmp_path / name).read_text()
        for secret in ("hunter2", "A1b2C3d4E5f6", "pw123", "labelsecret9"):
            assert secret not in text, (name, secret)
        assert "DB_PASS=***" in text and "postgres://bob:***@db/x" in text


def test_small_volumes_are_not_shown_as_empty():
    from voldoctor import report

    rep = {"machine": "m", "voldoctor": "x", "created": "now", "findings": [], "state": {
        "reachable": True, "volumes": [{"name": "tiny", "mountpoint": "/v1"}, {"name": "none", "mountpoint": "/v2"}],
        "volume_sizes": {"tiny": 12, "none": 0}, "containers": []}}
    text = report.markdown(rep)
    assert "| tiny |  | 12 B |" in text and "| none |  | 0 B (empty) |" in text
