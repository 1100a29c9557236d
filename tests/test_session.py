"""The conversation, driven directly (pure: states come from captured snapshots)."""

from __future__ import annotations

import json
from pathlib import Path

from support import snapshot, talk
from voldoctor import engine, rules
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
    assert options[0] == engine.read("volume problem", RS).match.candidates[0].id  # in the matcher's order


def test_weak_match_accepts_words():
    s, _ = talk(snapshot("path-mismatch"))
    s.handle("volume problem")
    titles = [c.title for c in s.pending.candidates]
    s.handle(titles[1])
    assert s.pending is None or s.pending.kind in ("volume", "container")


def test_missing_target_is_asked_for_and_remembered():
    s, _ = talk(snapshot("volume-typo"))
    r = s.handle("my volume is not foud")
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


def _down(good):
    return DaemonState(endpoint=good.endpoint, reachable=False,
                       error=DaemonError(kind="socket-missing", endpoint=good.endpoint.url, detail="no socket"))


def test_recheck_sees_a_container_recreated_under_the_same_name():
    good = snapshot("path-mismatch")
    s, d = talk(good)
    s.handle("data in /app/data is gone after docker rm")
    old = good.containers[0]
    other = old.mounts[0].model_copy(update={"name": "other-data", "destination": "/app/data"})
    new = old.model_copy(update={"id": "f" * 64, "mounts": (other,), "detail": None})
    d.state = good.model_copy(update={"containers": (new,), "volumes": good.volumes})
    r = s.handle("check again")
    assert "Nothing changed" not in r.text
    assert "vdt-web is a new container under the same name" in r.text
    assert "now mounts other-data at /app/data" in r.text and "old one mounted my-data at /app/date" in r.text
    assert r.text.count("under the same name") == 1  # said once, not also as a warning above


def test_recheck_claims_nothing_when_the_daemon_is_gone():
    good = snapshot("path-mismatch")
    s, d = talk(good)
    s.handle("data in /app/data is gone after docker rm")
    d.state = _down(good)
    r = s.handle("check again")
    assert "Fixed" not in r.text and "Still there" not in r.text and "Nothing changed" not in r.text
    assert "I could not look" in r.text
    d.state = good  # back, unchanged: compared with the last look that saw it
    r = s.handle("check again")
    assert "answers again" in r.text
    assert "Still there: The volume is mounted at a different path" in r.text
    assert "Fixed" not in r.text


def test_recheck_offline_claims_nothing():
    s, d = talk(snapshot("path-mismatch"))
    s.handle("data in /app/data is gone after docker rm")
    s.sources = lambda: None
    r = s.handle("check again")
    assert "offline" in r.text and "Fixed" not in r.text and "Nothing changed" not in r.text


def test_the_focus_path_is_used_when_a_question_needs_one():
    s, _ = talk(snapshot("path-mismatch"))
    s.focus.path = "/app/data"  # what the toolbar shows
    r = s.handle("my data is gone after docker rm")
    assert "Which folder" not in r.text and s.pending is None
    assert "/app/date" in r.text and "/app/data" in r.text


def test_naming_the_container_sets_the_focus_and_keeps_the_topic():
    s, _ = talk(snapshot("path-mismatch"))
    s.handle("data in /app/data is gone after docker rm")
    for text in ("my container is called vdt-web", "the container is named vdt-web", "it's called vdt-web"):
        r = s.handle(text)
        assert "name" not in s.last.match.symptom.id  # not read as the name-conflict symptom
        assert s.last.match.symptom.id == "data-not-persisting" and s.focus.container == "vdt-web"
        assert "OK, container vdt-web" in r.text and "Did you mean" not in r.text
        assert "/app/date" in r.text
    r = s.handle("my container is called vdt-wbe")
    assert "no container named vdt-wbe" in r.text and "did you mean vdt-web?" in r.text
    assert s.focus.container == "vdt-web"


def test_naming_the_container_answers_a_which_container_question():
    s, _ = talk(snapshot("name-conflict"))
    s.pending = __import__("voldoctor.conversation", fromlist=["Pending"]).Pending(
        "container", "data in /app/data is gone after docker rm", ["vdt-web"])
    r = s.handle("it's called vdt-web")
    assert s.focus.container == "vdt-web" and "went wrong" not in r.text


def test_ordinal_words_pick_from_a_numbered_list():
    for text in ("the first one i think", "1 i think", "number 1", "the 1st", "first", "last", "that one"):
        s, _ = talk(snapshot("volume-typo"))
        assert "1. my-data" in s.handle("volume not found").text
        r = s.handle(text)
        assert "does exist on" in r.text, text
    s, _ = talk(snapshot("volume-typo"))
    s.handle("volume not found")
    assert "Pick a number from 1 to 1" in s.handle("the 2nd").text


def test_a_newly_pasted_command_leads_after_an_earlier_topic():
    s, _ = talk(snapshot("read-only"))
    s.handle("my volume is read-only")
    assert s.focus.container == "vdt-reader"
    r = s.handle("docker run -v vdt-rovl:/data vdt-busybox:latest touch /data/x")
    first = next(line.text for line in r.lines if line.style in ("error", "warning"))
    assert "new, empty volume next to your data" in first
    assert r.text.index("vdt-rovol") < r.text.index("mounted read-only")
    assert s.focus.container is None and s.focus.volume == "vdt-rovl"


def _rm_anonymous():
    """The anonymous-volume scenario, its container started with --rm."""
    st = snapshot("anonymous")
    c = st.containers[0]
    c = c.model_copy(update={"detail": c.detail.model_copy(update={"auto_remove": True})})
    st = st.model_copy(update={"containers": (c,)})
    after = st.model_copy(update={"containers": (), "volumes": tuple(v for v in st.volumes if v.name != c.mounts[0].name)})
    return st, after


def test_a_running_rm_container_is_warned_about():
    st, _ = _rm_anonymous()
    s, _ = talk(st)
    r = s.handle("data in /app/data is gone after i recreate the container")
    warned = [line.text for line in r.lines if line.style in ("warning", "error") and "--rm" in line.text]
    assert any("stop" in w.lower() and "anonymous volume" in w for w in warned), r.text
    assert "docker cp vdt-anon:/app/data" in r.text


def test_after_an_rm_container_is_stopped_the_session_says_it_is_gone():
    st, after = _rm_anonymous()
    s, d = talk(st)
    s.handle("data in /app/data is gone after i recreate the container")
    d.state = after
    r = s.handle("i stopped it")
    assert "I am not sure" not in r.text
    assert "The container vdt-anon we were talking about is gone" in r.text
    assert "started with --rm" in r.text and "anonymous volume went with it" in r.text
    assert s.focus.container is None
    r = s.handle("check again")
    assert "Fixed" not in r.text and "looks right" not in r.text
    assert "Gone, not fixed" in r.text


def test_check_again_right_after_an_rm_container_stopped():
    st, after = _rm_anonymous()
    s, d = talk(st)
    s.handle("data in /app/data is gone after i recreate the container")
    d.state = after
    r = s.handle("check again")
    assert "The container vdt-anon we were talking about is gone" in r.text
    assert "Fixed" not in r.text and "Gone, not fixed" in r.text


def test_unsure_words_are_decided_by_the_daemon_in_the_conversation():
    s, _ = talk(snapshot("bind-created-as-root"))
    r = s.handle("the folder looks empty")
    assert "on the daemon I found one that fits them" in r.text and "Did you mean" not in r.text
    s, _ = talk(snapshot("healthy-persist"))
    r = s.handle("the folder looks empty")
    assert "Did you mean" in r.text and s.pending is not None and s.pending.kind == "symptom"
    assert "I found nothing wrong that fits any of these" in r.text  # e.g. asked again after the fix


def test_unsure_words_hear_of_another_problem_and_keep_the_question():
    s, _ = talk(snapshot("uid-mismatch-stopped"))
    r = s.handle("my volume doesnt work")
    assert "which may be what you mean" in r.text and "cannot write the mounted folder" in r.text
    assert "docker start vdt-sleeper" in r.text  # stopped: it is told to start it after the chown
    assert "is it one of these?" in r.text and s.pending is not None and s.pending.kind == "symptom"
    assert r.text.index("cannot write the mounted folder") < r.text.index("is it one of these?")


def test_a_chosen_symptom_survives_naming_its_target():
    """Choosing from the numbered question, then naming the volume or the folder asked
    for, answers that symptom: the question is not read again from the words."""
    s, _ = talk(snapshot("healthy-persist"))
    assert "Did you mean" in s.handle("something is wrong with my volume").text
    assert "Which volume" in s.handle("1").text
    r = s.handle("my-data")
    assert "Did you mean" not in r.text and "Which volume" not in r.text and "my-data" in r.text
    s, _ = talk(snapshot("healthy-persist"))
    assert "Which folder" in s.handle("my files are gone after i removed the container").text
    r = s.handle("1")
    assert "Did you mean" not in r.text and "could not tell" not in r.text and "nothing wrong" in r.text


def test_a_follow_up_while_the_numbered_question_is_open_keeps_the_choices():
    s, _ = talk(snapshot("healthy-persist"))
    assert "Did you mean" in s.handle("something is wrong with my volume").text
    for text, said in (("what else could it be?", "none of these"), ("how do I fix it", "nothing to explain or fix")):
        r = s.handle(text)
        assert said in r.text and "1. " in r.text and "Tell me first" not in r.text, r.text
        assert s.pending is not None and s.pending.kind == "symptom"
    assert "Which volume" in s.handle("1").text  # the choice still works afterwards


def test_check_again_does_not_call_a_remark_a_problem_still_there():
    s, _ = talk(snapshot("dangling"))
    r = s.handle("i removed the container and my data is gone, where is it?")
    assert "Volumes that no container uses" in r.text
    r = s.handle("check again")
    assert "Still true (a remark, not a problem)" in r.text and "Still there" not in r.text, r.text
    assert "looks right now" in r.text


def test_a_remark_beside_the_answer_is_not_counted_as_a_problem():
    s, _ = talk(snapshot("near-miss-after"))
    r = s.handle("my data is gone")
    assert "I also found 1 remark: Volumes that no container uses" in r.text and "other problem" not in r.text


def test_a_greeting_or_thanks_is_answered_as_one():
    s, _ = talk(snapshot("healthy-persist"))
    r = s.handle("hi")
    assert "Hello" in r.text and "Did you mean" not in r.text and "another Docker problem" not in r.text
    assert "Glad to help" in s.handle("thanks!").text
    assert "Hello" not in s.handle("hi, my volume is not found").text  # words after the greeting are a question


def test_quit_typed_without_the_slash_ends_the_conversation():
    s, _ = talk(snapshot("healthy-persist"))
    for word in ("quit", "exit", "Bye!", "q"):
        assert s.handle(word).quit, word
    r = s.handle("my container quits right after start")  # a sentence with the word is still a question
    assert not r.quit and r.text


def test_help_and_thanks_typed_as_words():
    s, _ = talk(snapshot("healthy-persist"))
    for text in ("help", "what can you do?", "How does this work"):
        assert "Commands:" in s.handle(text).text, text
    assert "Glad to help" in s.handle("thanks, that worked!").text
    assert "Commands:" not in s.handle("help, my volume is not found").text  # a question after the word


def test_a_number_with_no_question_open_says_so():
    s, _ = talk(snapshot("path-mismatch"))
    assert "no numbered question open" in s.handle("1").text
    assert "Did you mean" in s.handle("volume problem").text  # a numbered question is open: the number answers it
    assert "no numbered question open" not in s.handle("1").text


def test_changes_between_looks_tell_a_rename_and_never_invent_a_new_volume():
    from voldoctor import chat
    from voldoctor.conversation import Focus

    before = snapshot("name-conflict-command")
    web = before.container("vdt-web")
    renamed = before.model_copy(update={"containers": (web.model_copy(update={"name": "vdt-web-old"}),)})
    said = chat.state_changes(before, renamed, Focus())
    assert said == ["container vdt-web is now called vdt-web-old (the same container)."], said
    full = snapshot("near-miss-after")  # my-data holds a file
    later = full.model_copy(update={"volumes": tuple(v.model_copy(update={"created_at": "2030-01-01T00:00:00Z"})
                                                     for v in full.volumes)})
    assert not any("made again" in x for x in chat.state_changes(full, later, Focus()))  # a new time alone: no
    emptied = later.model_copy(update={"volume_sizes": {n: 0 for n in full.volume_sizes}})
    assert "volume my-data was removed and made again" in " ".join(chat.state_changes(full, emptied, Focus()))


def test_a_container_named_in_a_short_reply_becomes_the_focus():
    s, _ = talk(snapshot("near-miss-after"))
    s.handle("my data is gone")
    r = s.handle("its vdt-web2")
    assert "OK, container vdt-web2" in r.text
    assert "OK, container" not in s.handle("its broken").text  # no container of that name: words, not a name


def test_a_folder_told_after_an_answer_belongs_to_the_last_question():
    from voldoctor import turns

    assert turns.told_path("it was in /app/data") == "/app/data" and turns.told_path("in /srv/db.") == "/srv/db"
    assert turns.told_path("my data is gone from /app/data") is None  # a question of its own
    s, _ = talk(snapshot("path-mismatch"))
    first = s.handle("my data is gone after docker rm")
    r = s.handle("it was in /app/data")
    assert "[mount-path-mismatch]" in r.text or "mounted at a different path" in r.text, (first.text, r.text)


def test_a_folder_told_after_a_full_answer_asks_again_there():
    s, _ = talk(snapshot("near-miss-after"))
    s.handle("my data is gone")
    assert s.pending is None and s.last is not None
    r = s.handle("it was in /app/data")
    assert s.last_question[0] == "my data is gone /app/data" and "I could not" not in r.text
