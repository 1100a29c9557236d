"""Hostile input, names that are data, fix lines that warn, and the promise
that nothing the learner owns is changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import fuzz, snapshot, talk
from voldoctor import commandline, engine, rules
from voldoctor.engine import fill
from voldoctor.symptoms import Match, match

RS = rules.load()
SRC = Path(__file__).resolve().parent.parent / "src" / "voldoctor"

# ------------------------------------------------------------ strategies

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
meta = st.sampled_from(list("'\"`$;&|<>(){}[]\\*?!#~%\x1b\n\r\t\x00") + ["&&", "$(pwd)", "${x}", "%cd%", "\x1b[31m"])
word = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
flag = st.sampled_from(["-v", "--volume", "--mount", "-p", "--name", "-u", "--user", "--rm", "-d", "-it", "--read-only",
                        "-e", "--tmpfs", "-w", "--", "-"])
long_line = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(2000, 15000))


@st.composite
def docker_lines(draw):
    verb = draw(st.sampled_from(["run", "create", "volume create", "volume rm", "volume inspect", "container rm", "rm",
                                 "container", "volume", ""]))
    parts = ["docker", verb]
    for _ in range(draw(st.integers(0, 40))):
        parts.append(draw(st.one_of(flag, word, meta, st.builds(lambda a, b: f"{a}:{b}", word, word))))
    return " ".join(parts)


hostile = st.one_of(any_text, docker_lines(), long_line,
                    st.lists(st.one_of(word, meta), max_size=60).map(" ".join))


@fuzz(1500)
@given(hostile)
def test_matcher_never_raises(text):
    m = match(text, RS.symptoms)
    assert isinstance(m, Match)
    assert m.symptom is None or 0 <= m.symptom.score <= 100
    assert len(m.candidates) <= 3


@fuzz(3000)
@given(hostile)
def test_command_parser_never_raises(text):
    c = commandline.parse(text)
    assert c.ok or c.error  # a command, or the reason it could not be read
    if c.ok:
        assert all(m.problem is None or m.corrected is not None or "unknown mount type" in m.problem
                   for m in c.mounts)


def test_command_with_500_flags():
    line = "docker run " + " ".join(f"-v vol{i}:/data{i}" for i in range(250)) + " " + \
           " ".join(f"-e K{i}=v" for i in range(250)) + " busybox"
    c = commandline.parse(line)
    assert c.ok and len(c.mounts) == 250
    a = engine.answer(line, RS, lambda pick: snapshot("healthy-permission"))
    assert a.command is not None and a.command.ok


STATE = snapshot("uid-mismatch")


@fuzz(600)
@given(st.lists(hostile, min_size=1, max_size=4))
def test_conversation_turns_never_break(turns):
    s, _ = talk(STATE)
    for t in turns:
        r = s.handle(t)
        assert "went wrong on my side" not in r.text, t


# ------------------------------------------------------------ names are data


def test_template_values_are_not_templates():
    facts = {"container.name": "{mount.source}", "mount.source": "/secret"}
    assert fill("{container.name} at {mount.source}", facts) == "{mount.source} at /secret"


@pytest.mark.live
def test_weird_host_paths_are_printed_literally(lab, on_daemon, cli, cli_json, capsys):
    evil = lab.tmp / "evil\x1b[31m{container.name}<b>[x]\\"
    evil.mkdir()
    (evil / "keep").write_text("the learner's file")
    lab.container("vdt-weird", user="1000", binds=[f"{evil}:/data"])
    code, out, err = cli("diagnose", "touch: /data/f: Permission denied")
    assert "uid-mismatch" in out
    assert "\x1b" not in out  # the escape is shown, never obeyed
    assert "\\x1b[31m{container.name}<b>[x]" in out  # and the braces are not a template
    code, data = cli_json("diagnose", "touch: /data/f: Permission denied")
    assert data["diagnoses"][0]["evidence"]["mount.name"] == str(evil)  # JSON carries the name exactly
    env = {**os.environ, "DOCKER_HOST": on_daemon}
    p = subprocess.run([sys.executable, "-m", "voldoctor"], input="touch: /data/f: Permission denied\n/containers\n",
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "\x1b" not in p.stdout and "\\x1b[31m" in p.stdout


def test_voldoctor_never_runs_a_shell():
    files = sorted(SRC.rglob("*.py"))  # subpackages included
    assert files
    rx = re.compile(r"^\s*(import subprocess|from subprocess|import pty)|os\.system\(|os\.popen\(|os\.exec|os\.spawn",
                    re.M)
    assert [str(f.relative_to(SRC)) for f in files if rx.search(f.read_text())] == []


# ------------------------------------------------------------ fixes that delete warn first

DANGER = re.compile(r"docker volume rm|volume prune|system prune|image prune|builder prune|(?<!test)\s-f\b|--force|-fv\b|down -v")


def _all_fix_lines():
    for r in RS.rules.values():
        for line in r.fix_texts:
            yield r.id, line
    from voldoctor import check

    # a failing check's fix lines are built in code: collect the literal ones
    for f in sorted(Path(check.__file__).parent.glob("*.py")):
        for line in re.findall(r'"([^"\n]*docker [^"\n]*)"', f.read_text()):
            yield f"check:{f.stem}", line


def test_every_destructive_fix_warns():
    bad = [(rid, line) for rid, line in _all_fix_lines()
           if DANGER.search(line.split("   (")[0]) and "WARNING" not in line]
    assert bad == []


# ------------------------------------------------------------ nothing lost


def _digest(api) -> str:
    """Volumes (names, labels, every file's content), containers (id, name,
    state, mounts), labelled probe objects excluded."""
    h = hashlib.sha256()
    vols = sorted((api.volumes() or {}).get("Volumes") or [], key=lambda v: v["Name"])
    for v in vols:
        if (v.get("Labels") or {}).get("io.voldoctor.probe") == "1":
            continue
        h.update(json.dumps([v["Name"], v.get("Labels")], sort_keys=True).encode())
        root = Path(v["Mountpoint"])
        for p in sorted(root.rglob("*")):
            h.update(str(p.relative_to(root)).encode())
            if p.is_file():
                h.update(p.read_bytes())
            h.update(oct(p.stat().st_mode).encode() + str(p.stat().st_uid).encode())
    for c in sorted(api.containers(all=True), key=lambda c: c["Id"]):
        if (c.get("Labels") or {}).get("io.voldoctor.probe") == "1":
            continue
        h.update(json.dumps([c["Id"], c["Names"], c["State"], c.get("Mounts")], sort_keys=True).encode())
    return h.hexdigest()


@pytest.mark.live
def test_nothing_the_learner_owns_changes(lab, on_daemon, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # lab hints keep their level here
    lab.volume("my-data")
    lab.volume("my-data-old")
    assert lab.run("vdt-seed", command=("sh", "-c", "echo precious > /d/notes.txt && mkdir /d/sub && echo x > /d/sub/y"),
                   binds=["my-data:/d"]) == 0
    lab.container("vdt-web", binds=["my-data:/app/date"])
    lab.container("vdt-user", user="1000", binds=["my-data-old:/data"])
    lab.container("vdt-stopped", binds=["my-data:/srv:ro"], start=False)
    before = _digest(lab.api)

    # Every command in this process (the same code, without a start-up each);
    # the conversation as a child reading stdin, as a learner's pipe would.
    for sid, sym in RS.symptoms.items():
        cli("diagnose", sym.phrases[0])
        cli("diagnose", sym.phrases[0], "--volume", "my-data", "--json")
    cli("diagnose", "docker run -d -v my_data:/app/data --rm vdt-busybox:latest")
    cli("diagnose", "docker volume rm my-data")
    cli("diagnose", "docker rm -f vdt-web")
    lab_toml = tmp_path / "lab.toml"
    lab_toml.write_text('image = "vdt-busybox:latest"\nport = 1\n')
    cli("check", "--lab", str(lab_toml))
    cli("check", "--lab", str(lab_toml), "--json")
    p = subprocess.run([sys.executable, "-m", "voldoctor"], env={**os.environ, "DOCKER_HOST": on_daemon},
                       capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       input="volume not found\nmy_data\nwhy\nhow do i fix it\ncheck again\n/volumes\n/containers\n"
                             "/check\n/report r.json\ndocker volume rm my-data\n/quit\n")
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert (tmp_path / "r.json").exists()
    assert cli("report", "-o", str(tmp_path / "me.json"))[0] == 0
    assert cli("report", "-o", str(tmp_path / "me.md"), "--anonymize")[0] == 0
    cli("summarize", str(tmp_path / "me.json"))
    assert cli("snapshot", "-o", str(tmp_path / "snap.json"))[0] == 0
    for image in ("vdt-busybox:latest", "docker/getting-started:latest"):  # the lab looks inside my-data
        cli("lab", "--image", image)
        cli("lab", "--json", "--image", image)
        cli("lab", "hint", "--image", image)
    p = subprocess.run([sys.executable, "-m", "voldoctor"], env={**os.environ, "DOCKER_HOST": on_daemon},
                       capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       input="/lab\nhint\nwhere am i?\n/hint\n/quit\n")
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert _digest(lab.api) == before
    assert lab.api.containers(all=True, filters={"label": "io.voldoctor.probe=1"}) == []
    assert ((lab.api.volumes(filters={"label": "io.voldoctor.probe=1"}) or {}).get("Volumes") or []) == []


# ------------------------------------------------------------ control characters in every output


def _weird_state():
    """uid-mismatch, with a newline, a tab and a '|' in the names and paths a daemon reports."""
    s = snapshot("uid-mismatch")
    c = s.containers[0]
    m = c.mounts[0]
    vol = "vdt-root\tvol|x\nINJECTED-VOLUME"
    mp = m.source.replace("vdt-rootvol", "vdt-root\nINJECTED-PATH")
    m2 = m.model_copy(update={"name": vol, "source": mp})
    c2 = c.model_copy(update={"name": "vdt-writer\nINJECTED-CONTAINER", "mounts": (m2,)})
    v2 = s.volumes[0].model_copy(update={"name": vol, "mountpoint": mp})
    stats = {mp if k == m.source else k: v for k, v in s.path_stats.items()}
    ep = s.endpoint.model_copy(update={"url": "unix:///tmp/x\nINJECTED-HOST"})
    return s.model_copy(update={"containers": (c2,), "volumes": (v2,), "path_stats": stats, "endpoint": ep})


def _no_injected_line(text: str) -> None:
    for line in text.splitlines():
        assert not line.startswith("INJECTED"), text
    assert "\t" not in text


def test_control_characters_are_escaped_in_text_markdown_and_the_conversation(tmp_path, cli):
    from voldoctor import report, state as vstate

    weird = _weird_state()
    p = tmp_path / "weird.json"
    p.write_text(vstate.dump(weird))
    code, out, err = cli("diagnose", "--snapshot", str(p), "touch: /data/f: Permission denied")
    assert "uid-mismatch" in out and "\\nINJECTED-CONTAINER" in out
    _no_injected_line(out)
    md = report.markdown(report.build(weird, RS))
    _no_injected_line(md)
    rows = [line for line in md.splitlines() if line.startswith("| vdt-")]
    assert len(rows) == 2  # one volume row, one container row, each on one line
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row  # five cells: the '|' in the name is escaped
    s, _ = talk(weird)
    for said in ["touch: /data/f: Permission denied", "/volumes", "/containers", "/check", "why"]:
        _no_injected_line(s.handle(said).text)


def test_docker_host_with_a_newline_stays_on_one_line(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock\nINJECTED-HOST")
    code, out, err = cli("diagnose", "cannot connect to the docker daemon")
    assert code == 3 and "\\nINJECTED-HOST" in out
    _no_injected_line(out)
    code, out, err = cli("snapshot")
    _no_injected_line(err)


def test_user_rule_titles_are_shown_escaped(tmp_path, cli):
    d = tmp_path / "mine"
    d.mkdir()
    src = (rules.bundled_rules_dir() / "volume-missing.toml").read_text()
    (d / "volume-missing.toml").write_text(src.replace('title = "The volume does not exist"',
                                                       'title = "Red \\u001b[31malert\\u001b[0m\\tand a tab"'))
    for argv in (["rules", "list"], ["rules", "show", "volume-missing"]):
        code, out, err = cli(*argv, "--rules-dir", str(d))
        assert code == 0 and "\x1b" not in out and "\t" not in out
        assert "Red \\x1b[31malert\\x1b[0m\\tand a tab" in out
    code, out, err = cli("rules", "list", "--markdown", "--rules-dir", str(d))
    assert "\x1b" not in out


def test_containers_lists_full_volume_names():
    s = snapshot("healthy-permission")
    c = s.containers[0]
    long = "course-2024-module-4-lab-data"
    c2 = c.model_copy(update={"mounts": (c.mounts[0].model_copy(update={"name": long}),)})
    sess, _ = talk(s.model_copy(update={"containers": (c2,)}))
    assert f"{long} -> /app/data" in sess.handle("/containers").text
    anon = snapshot("anonymous")
    name = anon.containers[0].mounts[0].name
    text = talk(anon)[0].handle("/containers").text
    assert f"{name[:12]} -> " in text and name not in text  # an anonymous volume's id is cut, like docker's


def test_strict_summary_names_warnings_as_the_reason():
    from voldoctor import render

    line = render.check_summary_line({"pass": 9, "warn": 2, "fail": 0, "skip": 1, "exit_code": 1}, 0.4)
    assert "fix what failed" not in line and "--strict" in line and "warning" in line
    line = render.check_summary_line({"pass": 9, "warn": 2, "fail": 1, "skip": 1, "exit_code": 1}, 0.4)
    assert "fix what failed above" in line
