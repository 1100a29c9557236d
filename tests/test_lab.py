"""Lab packs without a daemon: the schema and its errors, progress on captured
states, hints that escalate and their memory, the conversation's /lab, the
class summary and the demo."""

from __future__ import annotations

import json
import os
import stat

import pytest

from support import SNAPSHOTS as SNAP
from support import snapshot, talk
from support import voldoctor as voldoctor_subprocess
from voldoctor import check, report, rules
from voldoctor.demo import DEMOS
from voldoctor.lab import loader
from voldoctor.lab.pack import default_path
from voldoctor.lab.run import of_state

RS = rules.load()
STAND_IN = "vdt-busybox:latest"
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

MINIMAL = '''
id = "db-lab"
title = "Keep a database's data"

[[steps]]
id = "make-volume"
title = "Create the database volume"
expect = [{ volume = "course-db" }]
hints = ["a nudge", "the concept and command", "docker volume create course-db"]
'''


def _snap_file(name):
    return str(SNAP / f"{name}.json")


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def test_bundled_pack_and_the_minimal_pack_lint(cli, tmp_path):
    code, out, err = cli("lab", "lint", str(default_path()))
    assert code == 0 and out.startswith("ok: module-4: 6 steps")
    p = tmp_path / "db.toml"
    p.write_text(MINIMAL)
    code, out, err = cli("lab", "lint", str(p))
    assert code == 0 and "db-lab" in out


@pytest.mark.parametrize("text, field", [
    (MINIMAL.replace("title = \"Create", "titel = \"Create"), "steps[1].titel: unknown key (did you mean 'title'?)"),
    (MINIMAL.replace('{ volume = "course-db" }', '{ volum = "course-db" }'), "steps[1].expect[1].volum: unknown key"),
    (MINIMAL.replace('"a nudge", ', ""), "steps[1].hints"),
    (MINIMAL + '\n[[steps]]\nid = "x"\ntitle = "run"\nexpect = [{ container = { mount = "db" } }]\n'
     'hints = ["a", "b", "c"]\n', "steps[2].expect[1].container.mount"),
    (MINIMAL.replace("id = \"db-lab\"", "id = \"db-lab\"\n[oops"), "not valid TOML"),
    (MINIMAL + '\n[[examples]]\ncurrent = ""\n', "examples[1]: expects current step"),
])
def test_a_malformed_pack_is_one_line_exit_2(cli, tmp_path, text, field):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    code, out, err = cli("lab", "--pack", str(p))
    assert code == 2 and err.count("\n") == 1 and str(p) in err and field in err, err
    assert "Traceback" not in err
    code, out, err = cli("lab", "lint", str(p))
    assert code == 2 and field in out


def test_check_lab_reads_a_pack():
    prof = check.load_profile(str(default_path()))
    assert (prof.image, prof.port, prof.volume, prof.path) == ("docker/getting-started:latest", 8965, "my-data",
                                                               "/app/data")


def test_progress_on_captured_states():
    pack = loader.load(image=STAND_IN)
    p = of_state(pack, snapshot("volume-typo"), RS)
    assert p.current == "run-with-volume" and [s.status for s in p.steps][:3] == ["done"] * 3
    p = of_state(pack, snapshot("path-mismatch"), RS)
    run = p.steps[3]
    assert run.status == "broken" and run.rule == "mount-path-mismatch"
    assert "does not publish port 8965" in run.evidence[0]
    p = of_state(pack, snapshot("no-volume"), RS)
    assert p.current == "create-volume" and p.steps[3].rule == "container-without-volume"
    p = of_state(loader.load(), snapshot("path-mismatch"), RS)  # another image: not the lab's container
    assert p.steps[3].status == "todo"


def test_a_typod_volume_name_is_the_rules_finding():
    pack = loader.load(image=STAND_IN)
    st = snapshot("volume-typo")
    st = st.model_copy(update={"volumes": tuple(v.model_copy(update={"name": "my_data"}) for v in st.volumes)})
    p = of_state(pack, st, RS)
    assert p.steps[0].status == "broken" and p.steps[0].rule == "volume-name-typo"
    assert any("my-data" in f for f in p.steps[0].fix)


def test_hints_escalate_and_are_remembered(cli_json, state_home):
    argv = ("lab", "hint", "--snapshot", _snap_file("path-mismatch"), "--image", STAND_IN)
    got = [cli_json(*argv)[1] for _ in range(4)]
    assert [h["level"] for h in got] == [1, 2, 3, 3]
    assert {h["step"] for h in got} == {"run-with-volume"}
    assert got[2]["hint"] == f"docker run -d -p 8965:80 -v my-data:/app/data {STAND_IN}"
    f = state_home / "voldoctor" / "lab.json"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert json.loads(f.read_text())["module-4"]["level"] == 3
    assert cli_json(*argv, "--reset")[1]["level"] == 1
    # a new current step starts at the nudge
    h = cli_json("lab", "hint", "--snapshot", _snap_file("no-volume"), "--image", STAND_IN)[1]
    assert (h["step"], h["level"]) == ("create-volume", 1)
    assert h["hint"].startswith("Your app needs a place")


def test_a_damaged_hint_file_is_replaced_with_a_warning(cli, state_home):
    f = state_home / "voldoctor" / "lab.json"
    f.parent.mkdir(parents=True)
    f.write_text("{not json")
    code, out, err = cli("lab", "hint", "--snapshot", _snap_file("path-mismatch"), "--image", STAND_IN)
    assert code == 0 and "damaged" in err and "Hint 1 of 3" in out
    assert json.loads(f.read_text())["module-4"]["level"] == 1


def test_lab_text_and_exit_codes(cli):
    code, out, err = cli("lab", "--snapshot", _snap_file("path-mismatch"), "--image", STAND_IN)
    assert code == 1 and "[broken]" in out and "Cause:" in out and "mount-path-mismatch" in out
    code, out, err = cli("lab", "--host", "unix:///nonexistent/docker.sock")
    assert code == 3 and "cannot see the daemon" in out


def test_lab_in_the_conversation(state_home):
    s, _ = talk(snapshot("path-mismatch"))
    r = s.handle("/lab")
    assert "Lab: Module 4" in r.text and "you are here" in r.text
    levels = [s.handle(t).text.splitlines()[0] for t in ("hint", "give me a hint", "hint")]
    assert [x.split()[1] for x in levels] == ["1", "2", "3"]
    assert "you are here" in s.handle("where am i?").text
    assert "you are here" in s.handle("what's next?").text
    assert "/lab" in s.handle("/help").text


def test_summary_says_where_the_class_is_stuck(tmp_path, cli_json):
    paths = []
    standin = loader.load(image=STAND_IN)  # the learners' own reading, carried in their reports
    for i, name in enumerate(["path-mismatch", "path-mismatch", "volume-typo", "no-volume"]):
        own = of_state(standin, snapshot(name), RS).json() if name == "path-mismatch" else None
        rep = report.build(snapshot(name), RS, lab=own)
        p = tmp_path / f"r{i}.json"
        p.write_text(json.dumps(rep))
        paths.append(str(p))
    assert rep["lab"]["pack"] == "module-4"
    code, out = cli_json("summarize", *paths)
    stuck = out["stuck"]
    assert stuck and all(r["pack"] == "module-4" for r in stuck)
    keys = [(-r["broken"], -r["current"]) for r in stuck]
    assert keys == sorted(keys)  # most often broken first
    by = {r["step"]: r for r in stuck}
    assert stuck[0]["step"] == "run-with-volume" and by["run-with-volume"]["broken"] == 2
    assert by["create-volume"]["current"] == 1 and by["run-with-volume"]["current"] == 3


def test_summary_text_names_the_stuck_steps(tmp_path, cli):
    p = tmp_path / "r.json"
    p.write_text(json.dumps(report.build(snapshot("path-mismatch"), RS)))
    code, out, err = cli("summarize", str(p))
    assert code == 0 and "Where the class is stuck" in out and "module-4/run-with-volume" in out


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.name)
def test_demo_needs_no_daemon(demo):
    case = json.loads((SNAP / demo.file).read_text())["case"]
    env = {"PYTHONPATH": SRC, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    r = voldoctor_subprocess("demo", demo.name, env=env, input="why\n/lab\n", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "DEMO" in r.stdout and "no Docker daemon is asked" in r.stdout
    assert RS.rules[case["first"]].title in r.stdout
    assert "Lab: Module 4" in r.stdout


def test_demo_list_and_unknown(cli):
    code, out, err = cli("demo", "--list")
    assert code == 0 and all(d.name in out for d in DEMOS)
    code, out, err = cli("demo", "volume-not-fund")
    assert code == 2 and "did you mean 'volume-not-found'" in err


def test_the_state_before_a_run_leaves_out_volumes_made_after_it():
    """A run on course_db, then course-db made by hand: when the run was made, only course_db (made by it)
    could exist, so the lab never says 'your data is in course-db'."""
    from datetime import datetime, timezone

    from voldoctor.lab.causes import before_run
    from voldoctor.state import Container, Mount, Volume

    def at(t):
        return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")

    c = Container(id="c" * 64, name="db", image="x", created=1000, state="running",
                  mounts=(Mount(type="volume", name="course_db", destination="/var/lib/db"),))
    old = Volume(name="old-one", created_at=at(500))
    st = snapshot("healthy-persist").model_copy(update={"containers": (c,), "volumes": (
        Volume(name="course_db", created_at=at(1000)), Volume(name="course-db", created_at=at(1300)), old)})
    assert [v.name for v in before_run(st, c).volumes] == ["old-one"]


def test_lab_options_before_hint_are_kept():
    from voldoctor.cli import build_parser

    p = build_parser()
    assert p.parse_args(["lab", "--image", "x:1", "--pack", "p.toml", "hint"]).image == "x:1"
    assert p.parse_args(["lab", "--pack", "p.toml", "hint"]).pack == "p.toml"
    assert p.parse_args(["lab", "hint", "--image", "y:2"]).image == "y:2"


def test_a_compose_container_of_the_same_image_is_not_taken_for_the_lab_app():
    from voldoctor.lab.pack import default_path
    from voldoctor.lab import loader, progress

    st = snapshot("healthy-persist")
    lab_c = st.container("vdt-lab")
    other = lab_c.model_copy(update={"id": "e" * 64, "name": "shop_db_1", "mounts": (),
                                     "labels": {"com.docker.compose.project": "shop"}})
    only_compose = st.model_copy(update={"containers": (other,)})
    pack = loader.load(default_path(), image=lab_c.image)
    step = next(s for s in pack.steps if s.expect and any(e.container for e in s.expect))
    ce = next(e.container for e in step.expect if e.container)
    seen = progress.check_container(ce, False, pack, only_compose, progress.Looks())
    assert seen.attempt is None and not seen.ok  # nothing of the lab yet, rather than the project's database
    mine = st.model_copy(update={"containers": (lab_c.model_copy(update={"mounts": ()}),)})
    assert progress.check_container(ce, False, pack, mine, progress.Looks()).attempt is not None
