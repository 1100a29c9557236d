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


def _unsure(stem: str, text: str, source=True):
    data = json.loads(next(p for p in SNAPSHOTS if p.stem == stem).read_text())
    saved = st.loads(json.dumps(data["state"]))
    return engine.answer(text, rules.load(), (lambda pick: saved) if source else None)


def test_words_that_fit_several_problems_are_decided_by_what_the_daemon_shows():
    """"the folder looks empty" fits a mount hiding files and lost data alike: on a daemon
    where the bind source was made by root only the first has a problem to show, so that
    is the answer; on a healthy daemon, or offline, the learner is asked."""
    from voldoctor import render

    text = "the folder looks empty"
    assert engine.read(text, rules.load()).match.symptom is None  # the words alone are not enough
    a = _unsure("bind-created-as-root", text)
    assert (a.match.symptom.id, a.match.via, a.diagnoses[0].rule) == ("bind-mount-vs-volume", "state",
                                                                        "bind-created-as-root")
    assert "I found one that fits them" in render.answer_text(a) and render.answer_json(a)["matched_by"] == "state"
    assert len(a.match.candidates) >= 1 and a.match.symptom.id not in [c.id for c in a.match.candidates]
    for healthy in ("healthy-persist", "healthy-permission"):
        b = _unsure(healthy, text)
        assert b.match.symptom is None and b.match.candidates and all(d.severity == "info" for d in b.diagnoses)
        assert b.clear_on_daemon and render.CLEAR_ON_DAEMON in render.answer_text(b)  # after a fix: nothing left
    c = _unsure("bind-created-as-root", text, source=False)
    assert c.match.symptom is None and c.diagnoses == ()
    assert not c.clear_on_daemon and render.CLEAR_ON_DAEMON not in render.answer_text(c)  # offline: nothing seen


def test_unsure_words_still_hear_of_a_problem_none_of_the_candidates_names():
    """"my volume doesnt work" reads as a missing volume, Desktop sharing or anonymous
    volumes; the daemon shows a file written outside any volume, or a stopped container
    whose user cannot write its volume. The question stays, and the problem is said
    beside it; on healthy daemons nothing is invented."""
    from voldoctor import render

    text = "my volume doesnt work"
    for stem, rule in (("layer-writes", "container-layer-writes"), ("uid-mismatch-stopped", "uid-mismatch")):
        a = _unsure(stem, text)
        assert a.match.symptom is None and not set(rules.load().rules[rule].symptoms) & {c.id for c in a.match.candidates}
        assert [d.rule for d in a.diagnoses if d.severity != "info"] == [rule]
        out = render.answer_text(a)
        assert "Did you mean" in out and render.FOUND_BESIDE in out and not a.clear_on_daemon
        assert out.index(render.FOUND_BESIDE) < out.index(f"[{rule}]")
    for healthy in ("healthy-persist", "healthy-permission", "healthy-in-use", "healthy-not-found"):
        b = _unsure(healthy, text)
        assert [d.rule for d in b.diagnoses if d.severity != "info"] == [], healthy
        assert b.clear_on_daemon and render.FOUND_BESIDE not in render.answer_text(b)
    # the check-up brings problems, not remarks: a volume in use is no answer to vague words (its lines
    # remove the containers and the volume)
    assert "volume-in-use" not in [d.rule for d in _unsure("in-use", text).diagnoses]


def test_two_candidates_with_evidence_still_ask():
    """When the daemon shows problems for more than one candidate, nothing is decided;
    with one, that one is the answer and keeps only its own diagnoses."""
    from voldoctor.symptoms import Candidate, Match

    rs = rules.load()
    m = Match(None, (Candidate("data-not-persisting", "", 60), Candidate("bind-mount-vs-volume", "", 30)))
    unsure = ["data-not-persisting", "bind-mount-vs-volume"]
    d1 = engine.Diagnosis("container-without-volume", "error", "", "", "", {}, (), "", "")
    d2 = engine.Diagnosis("bind-created-as-root", "error", "", "", "", {}, (), "", "")
    assert set(rs.rules["container-without-volume"].symptoms) & set(unsure) == {"data-not-persisting"}
    assert set(rs.rules["bind-created-as-root"].symptoms) & set(unsure) == {"bind-mount-vs-volume"}
    got, diags, _ = engine._decided_by_state(m, [d1, d2], unsure, rs)
    assert got.symptom is None and diags == []
    got, diags, _ = engine._decided_by_state(m, [d2], unsure, rs)
    assert got.symptom.id == "bind-mount-vs-volume" and got.via == "state" and diags == [d2]
    assert [c.id for c in got.candidates] == ["data-not-persisting"]


def test_one_rule_serving_several_candidates_decides_for_the_likeliest():
    """volume-name-typo is a cause of both 'volume not found' and 'data gone': found
    alone, it is one problem, not two, and the likelier candidate is the answer."""
    data = json.loads(next(p for p in SNAPSHOTS if p.stem == "volume-typo").read_text())
    saved = st.loads(json.dumps(data["state"]))
    for text, want in (("the folder looks empty", "data-not-persisting"),
                       ("something is wrong with my volume", "volume-not-found")):
        a = engine.answer(text, rules.load(), lambda pick: saved, volume="my_data")
        assert (a.match.via, a.match.symptom.id, [d.rule for d in a.diagnoses]) == ("state", want, ["volume-name-typo"])
        assert a.needs is None  # the daemon already showed the problem: no "which volume?" on top


def test_a_fix_line_to_complete_is_said_to_be_a_pattern():
    """A fix line with '...' cannot be pasted as it stands: the answer says so under
    the fix lines; complete commands get no such note."""
    from voldoctor import render

    _, a = _answer(next(p for p in SNAPSHOTS if p.stem == "volume-typo"))
    d = a.diagnoses[0]
    assert any("..." in x for x in d.fix)
    assert render.PATTERN_NOTE in render.answer_text(a)
    complete = engine.Diagnosis("x", "error", "t", "m", "", {}, ("docker volume create my_data",), "", "")
    assert render.pattern_note(complete.fix) is None
    assert render.PATTERN_NOTE not in "\n".join(render.diagnosis_text(complete))


def test_a_file_named_in_the_question_stands_for_its_folder():
    """'/app/data/upload.txt is gone': the volume goes on /app/data; mounted at the file's path
    Docker would make an empty folder named upload.txt and the app could not write the file."""
    data = json.loads(next(p for p in SNAPSHOTS if p.stem == "path-mismatch").read_text())
    saved = st.loads(json.dumps(data["state"]))
    a = engine.answer("data not persisting after docker rm, /app/data/upload.txt is gone", rules.load(),
                      lambda pick: saved)
    d = a.diagnoses[0]
    assert d.rule == "mount-path-mismatch" and d.evidence["path.wanted"] == "/app/data"
    assert "my-data:/app/data" in " ".join(d.fix) and "upload.txt" not in " ".join(d.fix)


def test_an_empty_folder_finds_the_volume_with_a_near_identical_name():
    """'the folder is empty' reads as a mount hiding files; when the mounted volume is new and empty
    and a volume a letter away holds the data, that is the answer, not 'nothing wrong'."""
    data = json.loads(next(p for p in SNAPSHOTS if p.stem == "near-miss-after").read_text())
    saved = st.loads(json.dumps(data["state"]))
    for text in ("the /app/data folder is empty in vdt-web2", "the folder is empty"):
        a = engine.answer(text, rules.load(), lambda pick: saved)
        assert [d.rule for d in a.diagnoses][:1] == ["mounted-near-miss"], (text, a.match)


def test_a_setting_passed_by_name_is_said_to_come_from_the_shell():
    """A rebuilt line keeps settings by name only (values may be passwords): the note says where the
    value comes from and how to read the old one before the container goes."""
    from voldoctor import render

    note = render.pattern_note(("Recreate: docker stop db && docker rm db && docker run -d --name db "
                                "-e POSTGRES_PASSWORD -v pg:/var/lib/postgresql/data postgres",))
    assert "export POSTGRES_PASSWORD=" in note and "docker inspect --format '{{join .Config.Env \"\\n\"}}' db" in note
    assert render.pattern_note(("docker run -e A=1 --name x img",)) is None


def test_removing_the_holders_of_a_volume_says_which_run_and_what_the_volume_holds():
    """A learner pasting volume-in-use's lines stops a working app and deletes files: both said before."""
    a = _unsure("uid-mismatch-shared", "docker volume rm vdt-uploads says volume is in use")
    fix = next(d for d in a.diagnoses if d.rule == "volume-in-use").fix
    rm = next(x for x in fix if "docker rm -f" in x)
    assert "running now" in rm and {"vdt-api", "vdt-thumbs"} <= set(rm.split("app stops for good: ")[1].split(")")[0].split())
    stopped = _unsure("in-use", "docker volume rm vdt-held says volume is in use").diagnoses[0].fix
    assert not any("running now" in x for x in stopped)
    assert "empty, made" in next(x for x in stopped if "docker volume rm" in x).split("   (", 1)[1]


def test_an_error_from_a_shell_that_asks_another_daemon():
    """voldoctor reaches a working daemon; the learner's docker asked another address: said, not 'No problem'."""
    a = _unsure("healthy-persist", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                "Is the docker daemon running?")
    d = a.diagnoses[0]
    assert d.rule == "daemon-endpoint-differs" and "export DOCKER_HOST=unix:///tmp/" in " ".join(d.fix)
    same = a.state.endpoint.url
    assert not [x for x in _unsure("healthy-persist", f"Cannot connect to the Docker daemon at {same}.").diagnoses
                if x.rule == "daemon-endpoint-differs"]


def test_a_volume_named_a_letter_off_in_plain_words_is_picked_up():
    """'my volume mydata isnt found' names a volume, though no volume has that name: my-data is a slip away."""
    a = _unsure("healthy-persist", "my volume mydata isnt found")
    assert a.entities.volumes == ("mydata",) and a.diagnoses[0].rule == "volume-name-typo"
    assert _unsure("healthy-persist", "my volume data is not found").entities.volumes == ()  # a word, not a name


def test_removing_a_volume_by_a_slipped_name_is_not_told_to_create_it():
    """'docker volume rm My-data' deletes nothing; the answer neither creates My-data nor puts my-data in a run
    line, and says what removing my-data would cost."""
    a = _unsure("healthy-persist", "docker volume rm My-data")
    d = next(x for x in a.diagnoses if x.rule == "volume-name-typo")
    assert not any("volume create" in x or "docker run" in x for x in d.fix)
    assert "WARNING" in next(x for x in d.fix if "docker volume rm my-data" in x)
    from voldoctor import effects
    assert effects.command_effects(a.command, a.state) == ("there is no volume My-data here: it deletes nothing "
                                                           "(Docker reports an error)",)
    plain = next(x for x in _unsure("healthy-persist", "volume My-data not found").diagnoses if x.rule == "volume-name-typo")
    assert any("volume create My-data" in x for x in plain.fix)


def test_data_gone_with_nothing_left_on_the_daemon_is_not_called_no_problem():
    from voldoctor import render

    a = _unsure("healthy-persist", "i did docker rm and now my notes in /app/data are gone")
    text = render.answer_text(a)
    assert "nothing that still explains it" in text and "No problem found" not in text
    assert "No problem found" in render.answer_text(_unsure("healthy-persist", "port is already allocated"))


def test_a_compose_container_is_told_to_change_its_compose_file():
    """A rebuilt docker run line for a container Compose made would take the name Compose needs."""
    data = json.loads(next(p for p in SNAPSHOTS if p.stem == "near-miss-after").read_text())
    saved = st.loads(json.dumps(data["state"]))
    labels = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}
    composed = saved.model_copy(update={"containers": tuple(
        c.model_copy(update={"labels": labels}) if c.name == "vdt-web2" else c for c in saved.containers)})
    d = engine.answer("my data is gone", rules.load(), lambda pick: composed, container="vdt-web2").diagnoses[0]
    assert "service web of the Compose project shop" in d.message and "docker compose up -d" in d.message
    plain = engine.answer("my data is gone", rules.load(), lambda pick: saved, container="vdt-web2").diagnoses[0]
    assert "Compose" not in plain.message


def test_another_apps_live_volume_is_not_offered_as_the_lost_data():
    """pgdata, which a running database uses, is a slip from appdata by name only: never mounted into the app."""
    from voldoctor.facts.mount import _near
    from voldoctor.state import Container, Mount

    data = json.loads(next(p for p in SNAPSHOTS if p.stem == "near-miss-after").read_text())
    saved = st.loads(json.dumps(data["state"]))
    m = next(x for c in saved.containers if c.name == "vdt-web2" for x in c.mounts)
    assert _near(saved, m, "vdt-busybox:latest") == "my-data"
    db = Container(id="d" * 64, name="pg", image="postgres:16", state="running",
                   mounts=(Mount(type="volume", name="my-data", destination="/var/lib/postgresql/data"),))
    busy = saved.model_copy(update={"containers": saved.containers + (db,)})
    assert _near(busy, m, "vdt-busybox:latest") is None
    assert _near(busy, m, "postgres:16") == "my-data"  # the same app's own volume stays a candidate


def test_a_taken_name_comes_before_a_corrected_run_that_needs_it():
    a = _unsure("name-conflict-command", "docker run -d --name vdt-web -v my-data/app/data vdt-busybox:latest")
    got = [d.rule for d in a.diagnoses]
    assert got[0] == "name-conflict" and "command-slip" in got, got


def test_a_run_told_as_done_is_answered_by_its_container_not_rewritten():
    """'i ran docker run --name X ...': a corrected 'docker run --name X' would fail on the name it made."""
    a = _unsure("near-miss-after-ran",
                "i ran docker run -d --name vdt-web2 -v my_data:/app/data vdt-busybox:latest and my data is gone")
    assert [d.rule for d in a.diagnoses][0] == "mounted-near-miss"
    assert not any(d.rule in ("run-volume-typo", "name-conflict") for d in a.diagnoses)
