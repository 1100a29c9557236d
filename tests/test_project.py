"""Project files read statically, Compose's naming rules (v1 and v2), and
deletion forecasts on states the private daemon cannot be (Engine 23+)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voldoctor import compose, deletes, project, rules
from voldoctor.state import Container, DaemonInfo, DaemonState, Endpoint, Mount, Volume

# ------------------------------------------------------------ project names


@pytest.mark.parametrize("folder,v1,v2", [
    ("myapp", "myapp", "myapp"),
    ("My App", "myapp", "myapp"),
    ("old-name", "old-name", "old-name"),
    ("my_app.v2", "my_appv2", "my_appv2"),
    ("_hidden", "_hidden", "hidden"),  # v2 trims leading '_' and '-'; v1 keeps them (and strips them from volume names)
    ("Ünïcode", "ncode", "ncode"),
    ("...", "default", "default"),
])
def test_folder_names(folder, v1, v2):
    assert compose.project_name(folder, flavor="v1").name == v1
    assert compose.project_name(folder, flavor="v2").name == v2


def test_precedence():
    env = {"COMPOSE_PROJECT_NAME": "fromenv"}
    assert compose.project_name("dir", flag="flag", env=env, top_name="top").name == "flag"
    assert compose.project_name("dir", env=env, top_name="top").name == "fromenv"
    assert compose.project_name("dir", top_name="top").name == "top"  # v2 only
    assert compose.project_name("dir", top_name="top", flavor="v1").name == "dir"  # v1 has no name: key


def test_v2_refuses_an_invalid_given_name_and_v1_normalises_it():
    with pytest.raises(compose.ComposeError):
        compose.project_name("dir", flag="My App")
    assert compose.project_name("dir", flag="My App", flavor="v1").name == "myapp"


def test_volume_names():
    assert compose.volume_name("app", "data", {}) == "app_data"
    assert compose.volume_name("app", "data", {"name": "exact"}) == "exact"
    assert compose.volume_name("app", "data", {"external": True}) == "data"
    assert compose.volume_name("app", "data", {"external": {"name": "old"}}) == "old"
    assert compose.volume_name("_app", "data", {}, "v1") == "app_data"
    assert compose.legacy_volume_name("my-app", "data") == "myapp_data"


@pytest.mark.parametrize("text,want", [
    ("${A}", "a"), ("$A", "a"), ("${B:-def}", "def"), ("${B-def}", "def"), ("${E:-def}", "def"), ("${E-def}", ""),
    ("${A:+alt}", "alt"), ("${B:+alt}", ""), ("$$A", "$A"), ("x${A}y", "xay"), ("${B}", ""),
    ("${B:-${A}}", "a"),
])
def test_interpolation(text, want):
    assert compose.interpolate(text, {"A": "a", "E": ""}) == want


@pytest.mark.parametrize("text", ["${B:?needs B}", "${B?}", "$", "${1}"])
def test_interpolation_errors_are_compose_errors(text):
    with pytest.raises(compose.ComposeError):
        compose.interpolate(text, {})


def test_env_file():
    env = compose.parse_env("# c\nA=1\nexport B='x y'\nC=\"q\\nr\"\nD=v # comment\nE=${A}2\nbad line\n")
    assert env == {"A": "1", "B": "x y", "C": "q\nr", "D": "v", "E": "12"}


# ------------------------------------------------------------ reading a project


def write(d, files: dict) -> None:
    for name, text in files.items():
        (d / name).write_text(text)


def test_env_and_interpolation_decide_the_volume_names(tmp_path):
    d = tmp_path / "Shop"
    d.mkdir()
    write(d, {"docker-compose.yml": "services:\n  db:\n    image: x\n    volumes: ['${VOL:-db}:/var/lib/db']\n"
              "volumes:\n  db: {}\n  logs:\n    name: ${PREFIX}-logs\n",
              ".env": "COMPOSE_PROJECT_NAME=shop2\nPREFIX=p\n"})
    p = project.load(str(d), env={})
    assert p.name("v2") == "shop2" and p.name("v1") == "shop2"
    assert [p.volume_name(v, p.name()) for v in p.volumes] == ["shop2_db", "p-logs"]
    assert p.services[0].mounts[0].source == "db"
    p = project.load(str(d), env={"COMPOSE_PROJECT_NAME": "fromshell"})  # the shell wins over .env
    assert p.name() == "fromshell"


def test_compose_file_preference(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services: {}\n", "compose.yaml": "services: {}\n"})
    assert project.find_compose(tmp_path).name == "compose.yaml"


def test_dockerfile_reading(tmp_path):
    write(tmp_path, {"Dockerfile": "FROM a AS build\nUSER x\nFROM busybox\n# c\nUSER app\n"
                     "RUN mkdir -p /ok && \\\n    chown app /ok\nVOLUME [\"/ok\", \"/bad\"]\nRUN echo x > /bad/f\n"})
    df = project.read_dockerfile(str(tmp_path / "Dockerfile"))
    assert df.user == "app"
    ok, bad = df.volumes
    assert ok.prepared and not bad.prepared and ok.line == 8
    assert bad.writes_after and "line 9" in bad.writes_after[0] and not ok.writes_after


@pytest.mark.parametrize("name,text,where", [
    ("compose.yaml", "services:\n  web:\n    image: [x\n", "compose.yaml:4:1"),
    ("compose.yaml", "services:\n  web:\n  image: x\n   volumes: a\n", "compose.yaml:4:"),
    ("compose.yaml", "- a\n- b\n", "compose.yaml"),
    ("compose.yaml", "services:\n  web:\n    volumes: data\n", "services.web.volumes"),
    ("compose.yaml", "services:\n  web:\n    volumes: ['data:app']\n", "services.web.volumes[0]"),
    ("compose.yaml", "services:\n  web:\n    volumes: [{type: bind, target: /x}]\n", "services.web.volumes[0]"),
    ("compose.yaml", "services:\n  web:\n    image: ${X:?set X}\n", "required variable X"),
    ("compose.yaml", "a: &a [*a]\n", "compose.yaml"),
    ("compose.yaml", "\xff\xfe", "compose.yaml"),
    ("Dockerfile", "FROM x\nVOLUME\n", "Dockerfile:2:1"),
    ("Dockerfile", "FROM x\nVOLUME [\"/a\"\n", "Dockerfile:2:1"),
    ("Dockerfile", "FROM x\nFROBNICATE y\n", "Dockerfile:2:1"),
    ("Dockerfile", "FROM x\nRUN a \\\n", "Dockerfile:2:1"),
])
def test_malformed_files_are_one_line_errors(tmp_path, cli, name, text, where):
    (tmp_path / name).write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    code, out, err = cli("diagnose", "--offline", "--project", str(tmp_path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and where in err and "Traceback" not in err


def test_billion_laughs_is_refused(tmp_path, cli):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 9)]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    code, out, err = cli("diagnose", "--offline", "--project", str(tmp_path))
    assert code == 2 and "too many values" in err


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzzed_compose_files_never_raise_anything_else(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("fz")
    (d / "compose.yaml").write_text(text)
    (d / "Dockerfile").write_text(text)
    try:
        p = project.load(str(d), env={})
    except project.ProjectError as e:
        assert "\n" not in str(e).strip()
        return
    from voldoctor.facts import project as pf

    pf.subjects(p, None, {})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["services:", "  web:", "    image: x", "    volumes:", "      - data:/d",
                                 "      - ./d:/d:ro", "      - {type: volume, target: /x}", "volumes:", "  data:",
                                 "    external: true", "    name: ${N:-n}", "  - x", "    user: 1000", "\t", ": :",
                                 "    build: .", "'", "&a", "*a", "!!python/object:os.system", "%YAML 1.1"]),
                max_size=12))
def test_fuzzed_compose_shapes(tmp_path_factory, lines):
    d = tmp_path_factory.mktemp("fs")
    (d / "compose.yaml").write_text("\n".join(lines) + "\n")
    try:
        p = project.load(str(d), env={})
    except project.ProjectError as e:
        assert "\n" not in str(e).strip()
        return
    from voldoctor.facts import project as pf

    pf.subjects(p, None, {})


# ------------------------------------------------------------ forecasts on Engine 23+ (API 1.42+)

ANON = "a" * 64


def state(api: str) -> DaemonState:
    return DaemonState(
        endpoint=Endpoint(url="unix:///x"), reachable=True, info=DaemonInfo(server_version="x", api_version=api),
        volumes=(Volume(name="named"), Volume(name=ANON, labels={deletes.ANON_LABEL: ""}), Volume(name="b" * 64),
                 Volume(name="used"), Volume(name="plugin", driver="rexray")),
        containers=(Container(id="1" * 64, name="stopped", image="i", state="exited",
                              mounts=(Mount(type="volume", name="used", destination="/u"),)),),
        volume_sizes={"named": 10, ANON: 0})


def names(f) -> list:
    return sorted(v.name for v in f.volumes)


def test_volume_prune_by_engine_version():
    new, old = state("1.43"), state("1.41")
    assert names(deletes.forecast(deletes.parse("docker volume prune -f"), new)) == [ANON]  # labelled anonymous only
    assert names(deletes.forecast(deletes.parse("docker volume prune -af"), new)) == sorted(["named", ANON, "b" * 64])
    assert names(deletes.forecast(deletes.parse("docker volume prune -f"), old)) == sorted(["named", ANON, "b" * 64])
    f = deletes.forecast(deletes.parse("docker volume prune --all --force"), old)
    assert f.refused and f.volumes == ()


def test_system_prune_volumes_after_the_containers_go():
    f = deletes.forecast(deletes.parse("docker system prune --volumes -f"), state("1.41"))
    assert f.containers == ("stopped",) and "used" in names(f)
    f = deletes.forecast(deletes.parse("docker system prune --volumes -f"), state("1.44"))
    assert names(f) == [ANON]


def test_compose_down_never_removes_external(tmp_path):
    write(tmp_path, {"compose.yaml": "services:\n  s:\n    image: x\nvolumes:\n  d: {}\n  e:\n    external: true\n"})
    p = project.load(str(tmp_path), env={}, flavor="v2")
    name = p.name()
    st_ = DaemonState(endpoint=Endpoint(url="unix:///x"), reachable=True, info=DaemonInfo(api_version="1.43"),
                      volumes=(Volume(name=f"{name}_d"), Volume(name="e")))
    f = deletes.forecast(deletes.parse("docker compose down -v"), st_, p)
    assert names(f) == [f"{name}_d"] and "e" in f.kept
    f = deletes.forecast(deletes.parse("docker compose down"), st_, None)
    assert f.refused


def test_text_leads_with_a_warning_when_files_would_go():
    f = deletes.forecast(deletes.parse("docker volume prune -f"), state("1.41"))
    lines = deletes.text_lines(f)
    assert lines[0].startswith("WARNING") and "named (10 B, holds files)" in lines[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["docker", "compose", "docker-compose", "rm", "-f", "-v", "-fv", "prune", "volume",
                                 "system", "container", "--volumes", "-a", "--all", "-p", "x", "down", "run", "--rm",
                                 "--filter", "label=a", "'", "\"", ";", "-s", "--remove-orphans", "--", "-"]),
                max_size=10))
def test_fuzzed_cleanup_commands(words):
    cmd = deletes.parse(" ".join(words))
    if cmd is not None:
        f = deletes.forecast(cmd, state("1.41"))
        deletes.text_lines(f)
        f.json()


@pytest.mark.parametrize("text", ["after docker rm my data was gone", "after docker rm, my data was gone",
                                  "i did docker rm again, and my data is gone", "docker rm the container and my data went"])
def test_a_sentence_about_docker_rm_is_not_a_cleanup_command(text):
    """Learners tell what they did: 'my', 'again,' and 'the' name no container, and nothing is forecast."""
    from voldoctor import commandline

    assert deletes.parse(text) is None
    assert commandline.command_line(text) is None


@pytest.mark.parametrize("text,ran", [
    ("i did docker rm notes and my notes.txt is gone, can i get it back", True),
    ("I accidentally ran docker volume prune, can I recover my volume?", True),
    ("after docker compose down -v my database was empty", True),
    ("docker rm -f web and now my files are missing", True),
    ("docker volume rm vdt-held says volume is in use", True),
    ("will docker rm notes delete my data", False),
    ("what does docker volume prune remove?", False),
    ("docker compose down -v", False),
    ("is it safe to run docker system prune -a", False),
])
def test_a_cleanup_that_already_ran_is_asked_about_not_forecast(text, ran):
    """Told after the fact, the command's result is the question: no forecast of what it
    would delete (its container may be gone already), the words go to the matcher."""
    from voldoctor import engine

    assert deletes.already_ran(text) is ran
    q = engine.read(text, rules.load())
    assert (q.cleanup is None) is ran
    if ran:
        assert q.command is None or q.command.kind in ("run", "create")
        assert q.match.symptom is not None or q.match.candidates


def test_a_command_ends_at_sentence_punctuation():
    from voldoctor import commandline

    assert deletes.parse("will docker rm notes delete my data").raw == "docker rm notes"
    assert deletes.parse("docker volume prune, can i get my data back").kind == "volume-prune"
    assert commandline.parse("docker run -v x:/d busybox, and it fails").image == "busybox"
    assert commandline.parse("docker run -v x:/d busybox sh -c 'a, b'").image == "busybox"
    # what the learner says after the command is not its arguments
    assert commandline.parse("docker run -d vdt-entry sh -c 'sleep 9' exits at once").args == ("sh", "-c", "sleep 9")
    assert commandline.parse("docker run -d -v b:/data vdt-busybox sleep 3600 to get my blog").args == ("sleep", "3600")
    # an apostrophe in the words after the command ("can't") is not an open quote; one in the command is
    assert commandline.parse("docker run -u 1000 -v /srv/x:/data img touch /data/f: can't create").image == "img"
    assert "unbalanced" in commandline.parse("docker run -v 'oops busybox").error


def test_a_run_line_told_after_the_fact_is_not_called_a_plan():
    from voldoctor import render
    from support import snapshot
    from voldoctor import engine

    st = snapshot("near-miss-after")
    a = engine.answer("i ran docker run -d -v my_data:/app/data vdt-busybox and my notes are gone", rules.load(),
                      lambda plan: st)
    assert "as you ran it" in render.answer_text(a) and "before you run it" not in render.answer_text(a)
    assert [d.rule for d in a.diagnoses if d.severity != "info"] == ["mounted-near-miss"]  # one cause, said once
    b = engine.answer("docker run -d -v my_data:/app/data vdt-busybox", rules.load(), lambda plan: st)
    assert "before you run it" in render.answer_text(b)


@pytest.mark.parametrize("text,names", [("docker rm web", ("web",)), ("docker rm -f web db", ("web", "db")),
                                        ("$ docker rm web and then my data was gone", ("web",))])
def test_a_real_rm_still_reads_its_containers(text, names):
    assert deletes.parse(text).names == names


def test_a_finding_in_the_project_files_beside_an_open_question_says_where_it_is(tmp_path, cli):
    write(tmp_path, {"Dockerfile": "FROM app\nUSER app\nVOLUME /app/uploads\n"})
    code, out, _err = cli("diagnose", "--offline", "--project", str(tmp_path), "will the uploads folder be writable?")
    assert "[dockerfile-volume-not-prepared]" in out and "In the project's files I found this" in out
    assert "On the daemon" not in out
