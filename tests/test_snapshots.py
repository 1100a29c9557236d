"""Unit tests of the engine on states captured from a real daemon (no daemon needed).

The files in tests/data/snapshots/ were written by the live scenarios with
VOLDOCTOR_CAPTURE=1; each holds the question, the expected first rule and
the daemon state as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.scenarios import SCENARIOS
from voldoctor import engine, rules, state as st

SNAPSHOTS = sorted((Path(__file__).parent / "data" / "snapshots").glob("*.json"))


def _answer(case_file: Path):
    from voldoctor.cli import build_parser

    data = json.loads(case_file.read_text())
    saved = st.loads(json.dumps(data["state"]))
    args = build_parser().parse_args(["diagnose", *data["case"]["argv"]])
    a = engine.answer(" ".join(args.text), rules.load(), lambda pick: saved,
                      volume=args.volume, container=args.container)
    return data["case"], a


def test_every_scenario_has_a_snapshot():
    assert {p.stem for p in SNAPSHOTS} == {s.name for s in SCENARIOS}


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_replayed_state_gives_the_expected_rule(path):
    case, a = _answer(path)
    got = [d.rule for d in a.diagnoses]
    problems = [d.rule for d in a.diagnoses if d.severity != "info"]
    assert a.state.replay is True
    if case["first"] is None:
        assert problems == []
        assert a.exit_code == engine.Exit.OK
    else:
        assert got[0] == case["first"]


def test_snapshot_round_trips_exactly():
    for p in SNAPSHOTS:
        s = st.loads(json.dumps(json.loads(p.read_text())["state"]))
        again = st.loads(st.dump(s))
        assert again == s


def test_uid_evidence_from_real_state():
    _, a = _answer(next(p for p in SNAPSHOTS if p.stem == "uid-mismatch"))
    d = a.diagnoses[0]
    assert (d.evidence["container.uid"], d.evidence["mount.owner_uid"], d.evidence["mount.mode"]) == (1000, 0, "755")
    assert "vdt-writer" in d.message
    assert any("chown -R 1000 /data" in f for f in d.fix)


def test_named_user_resolved_through_image_passwd():
    _, a = _answer(next(p for p in SNAPSHOTS if p.stem == "uid-mismatch-named-user"))
    d = a.diagnoses[0]
    assert d.evidence["container.user"] == "app" and d.evidence["container.uid"] == 1000


def test_unknown_schema_version_is_refused():
    with pytest.raises(st.SnapshotError, match="schema version 99"):
        st.loads(json.dumps({"schema_version": 99, "endpoint": {"url": "x"}, "reachable": True}))


@pytest.mark.parametrize("text,msg", [
    ("{not json", "not JSON"),
    ("# voldoctor report\n\nmarkdown", "markdown report"),
    ("[1, 2]", "not a voldoctor snapshot"),
    ('{"schema_version": 1, "endpoint": {"url": "x"}}', "invalid snapshot at reachable"),
])
def test_bad_snapshots_are_one_line_errors(text, msg):
    with pytest.raises(st.SnapshotError, match=msg) as e:
        st.loads(text, "f.json")
    assert "\n" not in str(e.value)


def test_cli_snapshot_errors_exit_2(tmp_path, cli):
    p = tmp_path / "cut.json"
    full = SNAPSHOTS[0].read_text()
    p.write_text(full[: len(full) // 2])
    code, out, err = cli("diagnose", "--snapshot", str(p), "volume not found")
    assert code == 2 and err.count("\n") == 1 and str(p) in err


def test_cli_replays_snapshot_and_says_so(cli):
    p = next(p for p in SNAPSHOTS if p.stem == "volume-typo")
    code, out, err = cli("diagnose", "--snapshot", str(p), "volume not found", "--volume", "my_data")
    assert code == 1
    assert "snapshot of" in out and "volume-name-typo" in out
