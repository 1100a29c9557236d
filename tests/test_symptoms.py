"""Symptom matching: real error texts, learner phrasings, entities, weak matches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voldoctor import rules
from voldoctor.symptoms import Match, Names, extract, match

SYMS = rules.load().symptoms
PHRASINGS = Path(__file__).resolve().parent / "data" / "phrasings.jsonl"
CORPUS = Path(__file__).resolve().parent / "data" / "corpus.jsonl"

REAL_ERRORS = [
    ("Error response from daemon: get my_data: no such volume", "volume-not-found", {"volumes": ("my_data",)}),
    ("Error: No such volume: myvol", "volume-not-found", {"volumes": ("myvol",)}),
    ('Error response from daemon: create my data: "my data" includes invalid characters for a local volume '
     'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use '
     'absolute path', "invalid-volume-name", {"volumes": ("my data",)}),
    ("Error response from daemon: remove my-data: volume is in use - "
     "[c9b382960f3f72d1d18533963c01f004e8258f063ad4220bddded2b7db5cd781]", "volume-in-use",
     {"volumes": ("my-data",), "containers": ("c9b382960f3f72d1d18533963c01f004e8258f063ad4220bddded2b7db5cd781",)}),
    ("touch: /data/f: Permission denied", "permission-denied", {"paths": ("/data/f",)}),
    ("touch: /data/x: Read-only file system", "read-only-mount", {"paths": ("/data/x",)}),
    ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
     "daemon-unreachable", {}),
    ('docker: permission denied while trying to connect to the Docker daemon socket at '
     'unix:///var/run/docker.sock: Post "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/create": dial unix '
     '/var/run/docker.sock: connect: permission denied.', "daemon-unreachable", {}),
    ('service "web" refers to undefined volume app-data: invalid compose project', "volume-not-found",
     {"volumes": ("app-data",)}),
    ("Conflicting options: either specify --host or --context, not both", "daemon-unreachable", {}),
    ("Error response from daemon: could not remove volume ddev_web: no such volume", "volume-not-found",
     {"volumes": ("ddev_web",)}),
    ('ERROR: Named volume "pgdata:/var/lib/postgresql/data:rw" is used in service "db" but no declaration was '
     'found in the volumes section.', "volume-not-found", {"volumes": ("pgdata",)}),
    ('ERROR: for nexus  Cannot create container for service nexus: Conflict. The name "/nexus" is already in use '
     'by container "a72d2ddc9107". You have to remove (or rename) that container to be able to reuse that name.',
     "name-conflict", {}),
]


def test_every_error_pattern_example_is_certain_for_its_own_symptom():
    """A well-known error text is never left to the model, and never lands on
    another symptom because a shorter, vaguer pattern of that symptom also hits."""
    for sid, s in SYMS.items():
        for p in s.errors:
            m = match(p.example, SYMS)
            assert m.via == "error" and m.symptom.id == sid, (sid, p.example, m.symptom and m.symptom.id)


@pytest.mark.parametrize("text", [
    'sysctl: setting key "net.core.somaxconn": Read-only file system',  # kernel settings: read-only in every container
    "bash: /proc/sys/net/ipv4/ip_default_ttl: Read-only file system",
    'exec: "/usr/bin/docker-entrypoint.sh": permission denied: unknown.',  # a script without its exec bit
    'exec: "./authn": permission denied',
    "/bin/sh: 0: cannot open /app/docker-entrypoint.sh: Permission denied",
    "mount: /tmp: permission denied.",  # mounting inside a container needs privileges, not an owner
])
def test_errors_that_are_not_about_a_mount_are_not_certain(text):
    """Real error lines whose words look like a mount problem but whose cause is not
    one: no pattern answers them with certainty (the model may still offer a guess)."""
    assert match(text, SYMS).via != "error"


def test_a_missing_bind_source_is_a_mount_docker_rejects():
    """Labelled invalid-mount-spec 16 times and bind-mount-vs-volume 4 times in the train and later
    rows; both symptoms run the rule that finds the missing folder."""
    m = match('invalid mount config for type "bind": bind source path does not exist: /home/me/site', SYMS)
    assert (m.via, m.symptom.id, m.entities.paths) == ("error", "invalid-mount-spec", ("/home/me/site",))


@pytest.mark.parametrize("text,sid,ents", REAL_ERRORS, ids=[r[1] + str(i) for i, r in enumerate(REAL_ERRORS)])
def test_real_error_texts(text, sid, ents):
    m = match(text, SYMS)
    assert m.symptom is not None and m.symptom.id == sid and m.via == "error"
    assert m.symptom.score == 100 and all(0 <= c.score <= 100 for c in m.candidates)
    for k, v in ents.items():
        got = getattr(m.entities, k)
        assert tuple(got[: len(v)]) == v, (k, got)


@pytest.mark.parametrize("text,sid", [
    ("my volume isnt found", "volume-not-found"),
    ("volume not foud", "volume-not-found"),
    ("permision denied when writing to the volume", "permission-denied"),
    ("data is gone after docker rm", "data-not-persisting"),
    ("my data disapeared after i removed the container", "data-not-persisting"),
    ("is the docker daemon running?", "daemon-unreachable"),
])
def test_learner_phrasings_with_typos(text, sid):
    """Answered, or asked with the symptom as choice 1: below the cross-validated
    threshold the matcher asks rather than guesses ("isnt" without its apostrophe
    leaves "my volume isnt found" at 0.89 against 0.95)."""
    m = match(text, SYMS)
    first = m.symptom or (m.candidates[0] if m.candidates else None)
    assert first is not None and first.id == sid, (m.symptom, m.candidates)


def test_most_plain_phrasings_with_typos_are_answered_outright():
    texts = ["my volume is not foud", "volume not foud", "permision denied when writing to the volume",
             "data is gone after docker rm", "my data disapeared after i removed the container",
             "is the docker daemon running?"]
    assert sum(1 for t in texts if match(t, SYMS).symptom is not None) >= 5


def test_weak_match_returns_candidates_not_a_guess():
    m = match("volume problem", SYMS)
    assert m.symptom is None and not m.other
    assert 2 <= len(m.candidates) <= 3
    scores = [c.score for c in m.candidates]  # probabilities in percent, most likely first
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 100


def test_vague_title_asks_instead_of_answering():
    """A title that names no symptom gets a question, not a confident answer."""
    for text in ("docker volume issue", "volume help", "problem with my container"):
        assert match(text, SYMS).symptom is None, text


def test_unrelated_text_matches_nothing():
    m = match("how do I bake bread", SYMS)
    assert m.symptom is None and m.candidates == ()


def test_names_in_free_text():
    names = Names(volumes=("my-data", "pg"), containers=("web",), container_ids=("abcdef1234567890",))
    e = extract("web lost everything in my-data, container abcdef12, path /app/data", names)
    assert e.volumes == ("my-data",)
    assert set(e.containers) == {"web", "abcdef12"}
    assert e.paths == ("/app/data",)


def test_pasted_run_line_entities():
    e = extract("docker run -d -p 8965:80 -v my_data:/app/data docker/getting-started", Names())
    assert e.volumes == ("my_data",) and e.paths == ("/app/data",)
    e = extract("docker run --mount type=volume,src=vol1,dst=/srv busybox", Names())
    assert e.volumes == ("vol1",) and e.paths == ("/srv",)


def test_dev_set_core_symptoms_accuracy():
    """On the labelled dev rows of the core symptoms, the top candidate is right
    often enough; a regression below this floor fails."""
    core = {"daemon-unreachable", "volume-not-found", "permission-denied", "data-not-persisting"}
    rows = [json.loads(l) for l in PHRASINGS.read_text().splitlines() if l.strip()]
    rows = [r for r in rows if r["category"] in core]
    assert len(rows) >= 30
    hits = 0
    for r in rows:
        m = match(r["text"], SYMS)
        top = m.symptom or (m.candidates[0] if m.candidates else None)
        hits += bool(top and top.id == r["category"])
    assert hits / len(rows) >= 0.70, f"{hits}/{len(rows)}"


# Each symptom in a learner's words with a typo, and a real error text where Docker prints one.
EVERY_SYMPTOM = [
    ("daemon-unreachable", "cant conect to the docker deamon, is it runing?",
     "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"),
    ("volume-not-found", "my volum is not foundd", "Error response from daemon: get my_data: no such volume"),
    ("permission-denied", "permision denied when my app writes to the volume", "touch: /data/f: Permission denied"),
    ("data-not-persisting", "my data dissapeared after i removed the container", None),
    ("invalid-volume-name", "docker says my volume name has invalid charachters",
     'create my data: "my data" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]"'
     ' are allowed. If you intended to pass a host directory, use absolute path'),
    ("read-only-mount", "read only file sytem when writing", "touch: /data/x: Read-only file system"),
    ("volume-in-use", "cant remove volume, it says its in use",
     "Error response from daemon: remove my-data: volume is in use - [c9b382960f3f]"),
    ("anonymous-volume", "every docker run creates a new volume with a random hash name", None),
    ("bind-mount-vs-volume", "the mounted folder is empty insde the container",
     'error mounting "/x/app.conf" to rootfs at "/etc/app.conf": mount /x/app.conf:/etc/app.conf, flags: 0x5000: '
     'not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)?'),
    ("mountpoint-not-on-host", "where is my volume stored on my mac? /var/lib/docker/volumes doesnt exist",
     "ls: cannot access '/var/lib/docker/volumes/my-data/_data': No such file or directory"),
    ("file-sharing-denied", "docker desktop wont mount my folder, mounts denied",
     "docker: Error response from daemon: Mounts denied: The path /Users/me/data is not shared from the host"),
    ("disk-full", "no space left on devise, docker is eating my disk",
     "write /var/lib/docker/tmp/x: no space left on device"),
    ("stale-volume-data", "i changed the postgres pasword but the old one is still used",
     "PostgreSQL Database directory appears to contain a database; Skipping initialization"),
    ("invalid-mount-spec", "invalid volume specifcation in my docker run",
     "docker: Error response from daemon: invalid mode: rx."),
    ("port-in-use", "port is allready allocated when i run the second container",
     "Bind for 0.0.0.0:8965 failed: port is already allocated"),
    ("name-conflict", "the container name is alredy in use",
     'Conflict. The container name "/web" is already in use by container "c9b382960f3f". You have to remove '
     '(or rename) that container to be able to reuse that name.'),
    ("image-not-found", "unable to find the imgae locally",
     "Unable to find image 'docker/getting-started:latest' locally"),
]


def test_every_symptom_is_covered_here():
    assert {row[0] for row in EVERY_SYMPTOM} == set(SYMS)


@pytest.mark.parametrize("sid,words,error", EVERY_SYMPTOM, ids=[r[0] for r in EVERY_SYMPTOM])
def test_every_symptom_with_a_typo_and_its_real_error(sid, words, error):
    """The learner's words rank the symptom first (answered, or choice 1 of the
    question when the model's probability is under its threshold); the real error
    text is certain."""
    m = match(words, SYMS)
    first = m.symptom or (m.candidates[0] if m.candidates else None)
    assert first is not None and first.id == sid, (m.symptom, m.candidates)
    if m.symptom is not None:
        assert m.via == "model"
    if error:
        m = match(error, SYMS)
        assert m.symptom is not None and m.symptom.id == sid and m.via == "error"


def test_text_around_a_pasted_command_is_read():
    """Words after the command on its line, and the command's own shape, count;
    a command pasted alone is left to the command reader."""
    from voldoctor import engine

    rs = rules.load()
    m = engine.match_question('docker run -v "my data":/app busybox fails with "my data" includes invalid '
                              'characters for a local volume name', rs)
    assert m.symptom is not None and m.symptom.id == "invalid-volume-name" and m.via == "error"
    assert engine.match_question("docker run -d -v my_data:/app/data docker/getting-started", rs) == Match(None, ())


def test_platform_cues_and_typo_correction():
    from voldoctor import learned

    assert learned.cues("Docker Desktop on macOS, files under /Users/me") == ["__mac", "__desktop"]
    assert "__wsl" in learned.cues("running in WSL2 with the code in /mnt/c/work")
    assert "__rootless" in learned.cues("rootless docker, socket in /run/user/1000")
    m = learned.model()
    assert (m.fix("permissoin"), m.fix("dameon"), m.fix("volum")) == ("permission", "daemon", "volume")
    # a misspelling common enough in real text is a word of its own, and still says its symptom
    assert m.fix("deamon") == "deamon" and match("the docker deamon is not running", SYMS).symptom.id == "daemon-unreachable"
    assert m.fix("zzzzqqq") == "zzzzqqq"


def test_cue_needles_never_hide_a_cue():
    """A cue's regex runs only when one of its needles is in the text: on every corpus text the
    cues are what the regexes alone find."""
    from voldoctor import learned

    texts = [json.loads(l)["text"] for l in CORPUS.read_text().splitlines() if l.strip()]
    texts += ["C:\\Users\\me> docker run -v %cd%:/app", "\\\\wsl$\\docker-desktop-data", "avc: denied { write }"]
    assert set(learned.NEEDLES) == {name for name, _ in learned.CUES}
    for t in texts:
        low = t[:learned.MAX_TEXT].lower()
        assert learned.cues(t) == ["__" + n for n, rx in learned.CUES if rx.search(low)], t


def test_typo_correction_takes_only_slips_of_a_finger():
    from voldoctor import learned

    m = learned.model()
    assert (m.fix("bread"), m.fix("bake")) == ("bread", "bake")  # other words, keys far apart: not typos
    assert learned.slipped_key("volumw", "volume") and learned.slipped_key("contianer", "container")
    assert not learned.slipped_key("posts", "ports") and learned.slipped_key("porf", "port")
    assert match("how do I bake bread", SYMS).candidates == ()


def test_error_prefilter_agrees_with_the_patterns():
    """The one-search prefilter never hides an error pattern's hit (corpus texts and
    every pattern's own example)."""
    import re

    from voldoctor import symptoms as S

    texts = [json.loads(l)["text"] for l in CORPUS.read_text().splitlines() if l.strip()]
    texts += [p.example for s in SYMS.values() for p in s.errors]
    pre = S._any_error(tuple(p.regex for s in SYMS.values() for p in s.errors))
    for t in texts:
        each = any(re.search(p.regex, t, re.IGNORECASE) for s in SYMS.values() for p in s.errors)
        assert each == bool(pre.search(t.lower())), t


def test_matching_needs_neither_numpy_nor_sklearn():
    code = ("import sys; from voldoctor import rules; from voldoctor.symptoms import match; "
            "m = match('my data is gone after docker rm', rules.load().symptoms); "
            "print(m.via, sorted(x for x in ('numpy', 'sklearn', 'scipy') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("[", 1)[1].strip() == "]", out


def test_other_is_said_in_the_answer():
    from voldoctor import engine, render

    rs = rules.load()
    rows = [json.loads(l) for l in CORPUS.read_text().splitlines() if l.strip()]
    flagged = [r["text"] for r in rows if r["category"] == "other" and match(r["text"], SYMS).other]
    assert flagged
    a = engine.answer(flagged[0], rs, None)
    assert a.match.symptom is None and a.match.other
    assert render.NOT_VOLUMES in render.answer_text(a)
    assert render.answer_json(a)["other"] is True and render.answer_json(a)["version"] == 1


def test_typo_phrasings_are_mostly_answered_outright():
    """The threshold is set for at most 1 wrong in 20 on real text; these plain
    phrasings sit above it (15 of 17 when measured), so a drop means the model
    got less sure of easy text."""
    sure = [sid for sid, words, _ in EVERY_SYMPTOM if (m := match(words, SYMS)).symptom and m.symptom.id == sid]
    assert len(sure) >= 15, sure


def test_model_files_stay_small():
    from voldoctor import learned

    size = learned.MODEL_PATH.stat().st_size + learned.WEIGHTS_PATH.stat().st_size
    assert size < 2_000_000, size
    assert learned.model().classes == sorted(SYMS) + ["other"]


def test_a_container_name_in_a_conflict_error_is_not_a_path():
    m = match('docker: Error response from daemon: Conflict. The container name "/notes" is already in use by '
              'container "9351d70d1bcf". You have to remove (or rename) that container to be able to reuse that name.',
              SYMS)
    assert m.symptom.id == "name-conflict" and "/notes" not in m.entities.paths
    assert match("touch: /notes: Permission denied", SYMS).entities.paths == ("/notes",)


def test_a_plain_word_named_as_the_missing_volume_is_its_name():
    for text in ("volume uploads not found", "my volume uploads is missing", "volume uploads doesnt exist"):
        assert extract(text, Names()).volumes == ("uploads",), text
    assert extract("the volume data is not found", Names()).volumes == ()  # 'data' is a word of the sentence
    assert extract("volume uploads", Names()).volumes == ()


def test_a_folder_in_a_path_is_not_a_container_of_that_name():
    n = Names(containers=("app", "shop"))
    assert extract("sh: can't create /app/data/f: Permission denied", n).containers == ()
    assert extract("my container app cannot write /app/data", n).containers == ("app",)


def test_a_volume_named_after_not_found():
    n = Names(volumes=("my-data",))
    assert extract("volume not found mydata", n).volumes == ("mydata",)
    assert extract("volume not found: my_data", n).volumes == ("my_data",)
    assert extract("volume not found after docker rm", n).volumes == ()
