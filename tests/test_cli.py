"""The command line: offline answers, JSON Lines, usage errors."""

from __future__ import annotations

import json


def test_offline_never_asks_a_daemon(cli_json, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, out = cli_json("diagnose", "--offline", "volume not found")
    assert code == 0
    assert out["symptom"]["id"] == "volume-not-found"
    assert out["daemon"]["offline"] is True and out["diagnoses"] == []
    assert out["advice"]


def test_json_shape(cli_json):
    code, out = cli_json("diagnose", "--offline", "volume problem")
    assert set(out) >= {"version", "input", "symptom", "candidates", "entities", "diagnoses", "daemon"}
    assert out["version"] == 1 and out["symptom"] is None
    assert all(set(c) == {"id", "title", "score"} for c in out["candidates"])
    assert set(out["entities"]) == {"volumes", "containers", "paths"}


def test_json_lines_from_stdin(cli, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("volume not found\n\npermission denied\nhow do I bake bread\n"))
    code, out, err = cli("diagnose", "--offline", "-")
    rows = [json.loads(l) for l in out.splitlines()]
    assert [r["symptom"]["id"] if r["symptom"] else None for r in rows] == ["volume-not-found", "permission-denied", None]


def test_weak_match_text_asks(cli):
    code, out, err = cli("diagnose", "--offline", "volume problem")
    assert code == 0 and "Did you mean" in out and "1." in out


def test_usage_errors_exit_2(cli, capsys):
    import pytest

    from voldoctor.cli import main

    with pytest.raises(SystemExit) as e:  # argparse's own exit: one usage line and status 2
        main(["diagnose", "--timeout", "0", "x"])
    assert e.value.code == 2 and "--timeout" in capsys.readouterr().err
    code, out, err = cli("diagnose", "--volume", "", "x")
    assert code == 2


def test_bad_option_exit_2(capsys):
    import pytest

    from voldoctor.cli import main

    with pytest.raises(SystemExit) as e:
        main(["diagnose", "--bogus"])
    assert e.value.code == 2


def test_symptom_answers_the_numbered_question(cli, capsys):
    code, out, err = cli("diagnose", "--offline", "something is wrong with my volume")
    assert code == 0 and "Did you mean" in out and "--symptom volume-not-found" in out
    code, out, err = cli("diagnose", "--offline", "--json", "--symptom", "volume-not-found",
                         "something is wrong with my volume")
    d = json.loads(out)
    assert (d["symptom"]["id"], d["matched_by"]) == ("volume-not-found", "chosen")
    code, out, err = cli("diagnose", "--offline", "--symptom", "volume-not-fond", "x")
    assert code == 2 and "did you mean 'volume-not-found'" in err and len(err.strip().splitlines()) == 1
