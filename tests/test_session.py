"""The conversation, driven directly (pure: states come from captured snapshots)."""

from __future__ import annotations

import json
from pathlib import Path

from support import snapshot, talk
from voldoctor import rules
from voldoctor.session import COMMANDS
from voldoctor.state import DaemonError, DaemonState

RS = rules.load()


def test_weak_match_asks_and_accepts_a_number():
    s, _ = talk(snapshot("path-mismatch"))
    r = s.handle("volume problem")
    assert "Did you mean" in r.text and "1." in r.text
    options = s.pending.options
    r = s.handle("1")
    assert s.pending is None or s.pending.kind != "symptom"
    assert options[0] in ("volume-not-found", "volume-in-use")


def test_weak_match_accepts_words():
    s, _ = talk(snapshot("path-mismatch"))
    s.handle("volume problem")
    titles = [c.title for c in s.pending.candidates]
    s.handle(titles[1])
    assert s.pending is None or s.pending.kind in ("volume", "container")


def test_missing_target_is_asked_for_and_remembered():
    s, _ = talk(snapshot("volume-typo"))
    r = s.handle("my volume isnt found")
    assert "Which volume" in r.text and "1. my-data" in r.text
    r = s.handle("my_data")
    assert "near miss" in r.text and "my-data" in r.text
    assert s.focus.volume == "my_data"
    # the next volume question uses the focus without asking again
    r = s.handle("volume not found")
    assert "Which volume" not in r.text and "my_data" in r.text


def test_choice_by_number_for_target():
    s, _ = talk(snapshot("volume-typo"))
    s.handle("volume not found")
    r = s.handle("1")
    assert "does exist on" in r.text  # my-data exists: then docker may be asking another daemon


def test_follow_ups_why_fix_else():
    s, _ = talk(snapshot("path-mismatch"))
    r = s.handle("data in /app/data is gone after docker rm")
    assert "/app/date" in r.text
    why = s.handle("why?")
    assert "Only what is written below a mount's path" in why.text and "Module" in why.text
    fix = s.handle("show me the command")
    assert "docker run -d --name vdt-web" in fix.text and "-v my-data:/app/data" in fix.text
    more = s.handle("what else could it be?")
    assert more.text  # the next cause or the next reading, never an error
    assert "went wrong on my side" not in more.text


def test_recheck_says_what_changed():
    before = snapshot("volume-typo")
    s, d = talk(before)
    s.handle("volume not found")
    s.handle("my_data")
    ref = before.volumes[0]
    d.state = before.model_copy(update={"volumes": before.volumes + (ref.model_copy(update={"name": "my_data"}),)})
    r = s.handle("check again")
    assert "my_data now exists." in r.text
    assert "Fixed: The volume name is a near miss" in r.text
    r = s.handle("still broken")
    assert "Nothing changed" in r.text


def test_recheck_mentions_unchanged_mounts():
    s, d = talk(snapshot("path-mismatch"))
    s.handle("data in /app/data is gone after docker rm")
    r = s.handle("i did that")
    assert "still mounts my-data at /app/date" in r.text
    assert "Still there: The volume is mounted at a different path" in r.text


def test_daemon_going_away_and_back_is_noticed():
    good = snapshot("path-mismatch")
    s, d = talk(good)
    s.handle("data in /app/data is gone after docker rm")
    d.state = DaemonState(endpoint=good.endpoint, reachable=False,
                          error=DaemonError(kind="socket-missing", endpoint=good.endpoint.url, detail="no socket"))
    r = s.handle("check again")
    assert "stopped answering" in r.text
    d.state = good
    r = s.handle("check again")
    assert "answers again" in r.text
    assert s.focus.path == "/app/data"  # the conversation survived


def test_pasted_error_mid_conversation():
    s, _ = talk(snapshot("uid-mismatch"))
    s.handle("hello")
    r = s.handle("touch: /data/f: Permission denied")
    assert "uid 1000" in r.text and "755" in r.text


def test_help_lists_every_command():
    s, _ = talk(snapshot("healthy-permission"))
    r = s.handle("/help")
    for name in COMMANDS:
        assert f"/{name}" in r.text
    assert "/report" not in r.text or "report" in COMMANDS


def test_slash_commands():
    s, _ = talk(snapshot("healthy-permission"))
    assert "my-data" in s.handle("/volumes").text
    assert "vdt-lab" in s.handle("/containers").text
    assert "Docker 20.10.24+dfsg1 at unix://" in s.handle("/check").text  # the version and endpoint of the state
    assert "uid-mismatch" in s.handle("/rules").text
    assert "numeric ids" in s.handle("/explain uid-mismatch").text
    assert "Did you mean uid-mismatch" in s.handle("/explain uid-mismach").text
    assert "OK, container vdt-lab" in s.handle("/focus container vdt-lab").text
    assert "Did you mean /help" in s.handle("/hepl").text
    assert s.handle("/quit").quit


def test_a_bug_in_a_turn_does_not_end_the_conversation():
    s, d = talk(snapshot("healthy-permission"))

    def broken(pick):
        raise RuntimeError("boom")

    s.sources = lambda: broken
    r = s.handle("permission denied")
    assert "went wrong on my side" in r.text
    s.sources = d.source
    assert "went wrong" not in s.handle("permission denied").text


def test_state_is_read_once_per_turn_for_names():
    s, d = talk(snapshot("healthy-permission"))
    s.handle("/volumes")
    n = d.reads
    for _ in range(5):
        s.names("volume")
        s.names("container")
    assert d.reads == n


def test_a_superscript_digit_is_not_a_choice():
    s, _ = talk(snapshot("volume-typo"))
    assert "Which volume" in s.handle("volume not found").text
    r = s.handle("²")
    assert "went wrong on my side" not in r.text


def test_not_a_volume_problem_is_said_so():
    """A corpus row about another Docker problem, recognised as such: the conversation
    says it is not a volume problem rather than guessing a volume cause."""
    from voldoctor.render import NOT_VOLUMES
    from voldoctor.symptoms import match

    rows = [json.loads(l) for l in (Path(__file__).parent / "data" / "corpus.jsonl").read_text().splitlines()]
    text = next(r["text"] for r in rows if r["category"] == "other" and match(r["text"], RS.symptoms).other
                and "docker run" not in r["text"])
    s, _ = talk(snapshot("path-mismatch"))
    r = s.handle(text)
    assert NOT_VOLUMES in r.text
    assert s.pending is None or s.pending.kind == "symptom"
