"""Reports, replay and the class summary."""

from __future__ import annotations

import json

import pytest

from test_session import snapshot, talk
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
    assert len(paths) == 30
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
