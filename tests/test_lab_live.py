"""Live: the module's lab walked step by step on a real daemon, mistakes
included, and a TA's own pack from todo to done.

The private daemon has no network (containers run with --network none), so
nothing can publish a port there: the walk uses the module's pack with the
test image and without its port expectation. The port expectation itself is
covered by the pack's examples and the unit tests.
"""

from __future__ import annotations


import pytest

from voldoctor.lab.pack import default_path

pytestmark = pytest.mark.live
IMAGE = "vdt-busybox:latest"


@pytest.fixture
def walk_pack(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    text = default_path().read_text().replace(', port = "{port}"', "")
    p = tmp_path / "module-4-test.toml"
    p.write_text(text)
    return str(p)


def _lab(cli_json, pack, *extra):
    code, out = cli_json("lab", "--pack", pack, "--image", IMAGE, *extra)
    return code, out, {s["id"]: s for s in out["steps"]}


def _hint(cli_json, pack):
    return cli_json("lab", "hint", "--pack", pack, "--image", IMAGE)[1]


def _exec(lab, cid, script):
    ex = lab.api.exec_create(cid, ["sh", "-c", script])
    lab.api.exec_start(ex["Id"])
    assert lab.api.exec_inspect(ex["Id"])["ExitCode"] == 0


def _gone(lab, cid):
    lab.api.remove_container(cid, force=True)
    lab.containers.remove(cid)


def test_module_lab_walk(lab, on_daemon, cli_json, walk_pack):
    code, out, steps = _lab(cli_json, walk_pack)
    assert out["current"] == "create-volume" and code == 0
    assert steps["clean-up"]["status"] == "todo"  # a fresh machine has nothing to clean up

    lab.volume("my-data")
    code, out, steps = _lab(cli_json, walk_pack)
    assert steps["create-volume"]["status"] == "done" and "my-data" in steps["create-volume"]["evidence"][0]
    assert steps["list-volumes"]["look"] and steps["list-volumes"]["status"] == "done"
    assert out["current"] == "run-with-volume"

    # A run without -v: broken, with the same finding as diagnose gives.
    bare = lab.container(lab.name("bare"), IMAGE)
    code, out, steps = _lab(cli_json, walk_pack)
    run = steps["run-with-volume"]
    assert code == 1 and run["status"] == "broken" and run["rule"] == "container-without-volume"
    assert lab.name("bare") in run["evidence"][0]
    _gone(lab, bare)

    # A typo'd volume in the run: docker made a new, empty my_data.
    typo = lab.container(lab.name("typo"), IMAGE, binds=["my_data:/app/data"])
    lab.volumes.append("my_data")
    code, out, steps = _lab(cli_json, walk_pack)
    run = steps["run-with-volume"]
    assert run["status"] == "broken" and run["rule"] == "run-volume-typo", run
    assert "my-data" in run["cause"] and any("my-data:/app/data" in f for f in run["fix"])
    _gone(lab, typo)
    lab.api.remove_volume("my_data")

    # A wrong path.
    wrong = lab.container(lab.name("date"), IMAGE, binds=["my-data:/app/date"])
    code, out, steps = _lab(cli_json, walk_pack)
    run = steps["run-with-volume"]
    assert run["status"] == "broken" and run["rule"] == "mount-path-mismatch", run
    assert "/app/date" in run["evidence"][0]
    _gone(lab, wrong)

    # Right: the run step is done; nothing has outlived a container yet.
    first = lab.container(lab.name("first"), IMAGE, binds=["my-data:/app/data"])
    code, out, steps = _lab(cli_json, walk_pack)
    assert steps["run-with-volume"]["status"] == "done" and out["current"] == "verify-persistence"
    assert code == 0

    # Hints for this step escalate, and the third names the real container.
    levels = [_hint(cli_json, walk_pack) for _ in range(3)]
    assert [h["level"] for h in levels] == [1, 2, 3] and {h["step"] for h in levels} == {"verify-persistence"}
    assert levels[2]["hint"].startswith(f"docker exec {lab.name('first')} sh -c 'date > /app/data/proof.txt'")
    assert f"docker rm -f {lab.name('first')}" in levels[2]["hint"] and "-v my-data:/app/data " + IMAGE in levels[2]["hint"]

    # Persistence: a file written by one container, seen by the next.
    # dated in the past, as a file written a while before the next container is made
    _exec(lab, first, "date > /app/data/proof.txt && touch -d '2020-01-01 00:00:00' /app/data/proof.txt")
    _gone(lab, first)
    second = lab.container(lab.name("second"), IMAGE, binds=["my-data:/app/data"])
    code, out, steps = _lab(cli_json, walk_pack)
    assert steps["verify-persistence"]["status"] == "done", steps["verify-persistence"]
    assert "before the container was made" in steps["verify-persistence"]["evidence"][0]
    assert out["current"] == "clean-up"
    hint = _hint(cli_json, walk_pack)
    assert hint["step"] == "clean-up" and hint["level"] == 1  # a new step starts at the nudge

    # Clean-up: the volume is in use until the container goes.
    code, out, steps = _lab(cli_json, walk_pack)
    assert steps["clean-up"]["status"] == "todo" and lab.name("second") in steps["clean-up"]["evidence"][0]
    _gone(lab, second)
    lab.api.remove_volume("my-data")
    lab.volumes.remove("my-data")
    code, out, steps = _lab(cli_json, walk_pack)
    assert out["current"] is None and code == 0
    assert all(s["status"] == "done" for s in out["steps"]), out["steps"]


TA_PACK = '''
id = "db-lab"
title = "Keep a database's data"
image = "vdt-busybox-user:latest"

[[steps]]
id = "make-volume"
title = "Create the database volume"
expect = [{ volume = "course-db" }]
hints = ["a nudge", "the concept and command", "docker volume create course-db"]

[[steps]]
id = "run-db"
title = "Run the database as its own user with the volume"
expect = [{ container = { mount = "course-db:/var/lib/db", user = "app" } }]
hints = ["a nudge", "docker run -v ...", "docker run -d -v course-db:/var/lib/db {image}"]

[[steps]]
id = "initialised"
title = "The database wrote its version file"
expect = [{ file = "course-db:/PG_VERSION", content = "16" }]
hints = ["a nudge", "look inside", "docker exec {container} sh -c 'echo 16 > /var/lib/db/PG_VERSION'"]
'''


@pytest.mark.parametrize("where", ["local", "remote"])
def test_ta_pack_from_todo_to_done(where, lab, daemon_host, tcp_host, cli_json, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("DOCKER_HOST", daemon_host if where == "local" else tcp_host)
    pack = tmp_path / "db-lab.toml"
    pack.write_text(TA_PACK)
    code, out = cli_json("lab", "--pack", str(pack))
    assert out["pack"] == "db-lab" and out["current"] == "make-volume"
    lab.volume("course-db")
    assert cli_json("lab", "--pack", str(pack))[1]["current"] == "run-db"
    # Made writable for the image's user first, as the TA's own lab would.
    assert lab.run(lab.name("own"), command=("chown", "1000", "/d"), binds=["course-db:/d"]) == 0
    db = lab.container(lab.name("db"), "vdt-busybox-user:latest", binds=["course-db:/var/lib/db"])
    code, out = cli_json("lab", "--pack", str(pack))
    assert out["current"] == "initialised" and out["steps"][2]["evidence"] == ["course-db has no file /PG_VERSION yet"]
    _exec(lab, db, "echo 15 > /var/lib/db/PG_VERSION")
    code, out = cli_json("lab", "--pack", str(pack))
    assert out["steps"][2]["status"] == "broken" and "'15'" in out["steps"][2]["evidence"][0]
    _exec(lab, db, "echo 16 > /var/lib/db/PG_VERSION")
    code, out = cli_json("lab", "--pack", str(pack))
    assert out["current"] is None and code == 0, out
    # the look inside left nothing behind
    assert lab.api.containers(all=True, filters={"label": "io.voldoctor.probe=1"}) == []
