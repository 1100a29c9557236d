"""The facts contract: every fact is declared by exactly one producer module,
each producer makes exactly the facts it declares, and a rule whose facts no
single subject carries does not load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voldoctor import commandline
from voldoctor.facts import FACTS, PRODUCERS, scope_of
from voldoctor.facts.common import Query
from voldoctor.state import loads

SNAP = Path(__file__).resolve().parent / "data" / "snapshots"
COMMANDS = ["docker run -d --rm --name web -p 8965:80 -u 1000 -v my-data:/app/data -v ./x:/x:ro docker/getting-started",
            "docker run -v my_data:app/data busybox", "docker run --mount type=bind,source=/nope,target=/d busybox"]


def _states():
    for p in sorted(SNAP.glob("*.json")):
        yield loads(json.dumps(json.loads(p.read_text())["state"]))


def produced() -> dict[str, set[str]]:
    """What each producer makes, over every captured state and a wide question."""
    out: dict[str, set[str]] = {s: set() for s in PRODUCERS}
    q = Query(volumes=("my-data",), paths=("/app/data",), ports=(8965,), names=("web",),
              images=("docker/getting-started", "busybox"))
    for st in _states():
        out["daemon"] |= set(PRODUCERS["daemon"].produce(st, q))
        if not st.reachable:
            continue
        for name in ("my-data", "my_data", "no such;name"):
            out["volume"] |= set(PRODUCERS["volume"].produce(st, name))
        for c in st.containers:
            cf = PRODUCERS["container"].produce(c, q, True, st)
            out["container"] |= set(cf)
            for m in c.mounts:
                out["mount"] |= set(PRODUCERS["mount"].produce(st, m, cf, c))
        for text in COMMANDS:
            cmd = commandline.parse(text)
            out["command"] |= set(PRODUCERS["command"].produce(cmd))
            for spec in cmd.mounts:
                out["spec"] |= set(PRODUCERS["spec"].produce(st, spec))
    return out


PROJECT_FILES = {
    "compose.yaml": """
services:
  web:
    build: .
    user: "1000"
    volumes:
      - data:/data
      - ./site:/site
      - ./made:/made
      - undeclared:/u
      - /scratch
volumes:
  data: {}
  db-data: {}
  shared:
    external: true
""",
    "Dockerfile": "FROM x\nUSER app\nVOLUME /data /var/lib/app\nRUN echo x > /var/lib/app/f\n",
}


def project_facts() -> set[str]:
    """Every fact the project producer makes, over a project and a state that exercise them all."""
    import os
    import tempfile

    from voldoctor import project as project_mod
    from voldoctor.state import DaemonInfo, DaemonState, Endpoint, PathStat, Volume

    made: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "myapp"
        d.mkdir()
        for name, text in PROJECT_FILES.items():
            (d / name).write_text(text)
        (d / "made").mkdir()
        os.chown(d, 1000, 1000) if os.geteuid() == 0 else None
        (d / "data").mkdir()
        proj = project_mod.load(str(d), env={}, flavor="v2")
        state = DaemonState(
            endpoint=Endpoint(url="unix:///var/run/docker.sock"), reachable=True,
            info=DaemonInfo(server_version="20.10.24", api_version="1.41"),
            volumes=(Volume(name="myapp_data", mountpoint="/vol/myapp_data"),
                     Volume(name="old_db-data", mountpoint="/vol/old", labels={
                         "com.docker.compose.project": "old", "com.docker.compose.volume": "db-data"})),
            path_stats={"/vol/myapp_data": PathStat(uid=0, gid=0, mode=0o755, is_dir=True)},
            volume_sizes={"myapp_data": 10, "old_db-data": 4096})
        for st in (None, state):
            for f in PRODUCERS["project"].produce(proj, st):
                made |= {k for k, v in f.items() if v is not None}
    return made


def test_each_producer_makes_exactly_what_it_declares():
    got = produced()
    got["project"] = project_facts()
    for subject, module in PRODUCERS.items():
        declared = {f.name for f in module.DECLARED}
        assert got[subject] - declared == set(), f"{subject} makes undeclared facts"
        assert declared - got[subject] == set(), f"{subject} declares facts it never makes"


def test_each_fact_has_exactly_one_producer():
    """FACTS is a dict: a fact declared by two producers would silently keep the last."""
    names = [f.name for m in PRODUCERS.values() for f in m.DECLARED]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_scope_is_the_narrowest_subject_carrying_all():
    assert scope_of(["daemon.reachable"]) == "daemon"
    assert scope_of(["container.uid", "mount.writable"]) == "mount"
    assert scope_of(["cmd.image", "spec.type", "daemon.desktop"]) == "spec"
    assert scope_of(["volume.exists", "container.name"]) is None
    assert scope_of(["mount.rw", "spec.ro"]) is None


def test_a_mixed_subject_rule_is_rejected_with_file_and_field(tmp_path, cli):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "mixed.toml").write_text('''id = "mixed"
title = "Mixes a volume and a container"
symptoms = ["volume-not-found"]
severity = "error"
source = "a test"
message = "{volume.name} and {container.name}"
fix = ["nothing"]
when = [{ fact = "volume.exists", is = false }, { fact = "container.state", is = "running" }]
[[examples]]
facts = { "volume.exists" = false, "container.state" = "running" }
expect = "fires"
[[examples]]
facts = { "volume.exists" = true }
expect = "quiet"
''')
    code, out, _ = cli("rules", "lint", str(d))
    assert code == 2
    line = next(x for x in out.splitlines() if "mixed.toml" in x)
    assert "never on one subject" in line and "volume.exists" in line and "container.state" in line


def test_rules_facts_and_show_display_the_docs(cli):
    code, out, _ = cli("rules", "facts")
    assert code == 0
    for f in FACTS.values():
        assert f.name in out and f.doc[:40] in out
    code, out, _ = cli("rules", "show", "uid-mismatch")
    assert code == 0 and FACTS["mount.writable"].doc in out


@pytest.mark.parametrize("name,file_like", [("app.conf", True), (".env", True), ("db.sqlite3", True),
                                            ("backup.tar.gz", True), (".htpasswd", True), ("data", False),
                                            ("node_modules", False), (".ssh", False), ("v1.2", False),
                                            ("php7.4", False), (".config", False)])
def test_a_mount_path_that_names_a_file(name, file_like):
    """Docker makes a folder for a missing bind source; the path inside tells that a file was meant."""
    from voldoctor.facts.mount import FILE_LIKE

    assert bool(FILE_LIKE.match(name)) is file_like


def test_a_shell_after_an_image_with_an_entrypoint():
    """'sh -c ...' after an image whose ENTRYPOINT is a program reaches that program as
    arguments; entrypoint scripts and init shims run it, and --entrypoint already fixes it."""
    from voldoctor.facts import command
    from voldoctor.state import Image

    def facts(line, ep):
        return command.produce(commandline.parse(line), Image(id="x", entrypoint=ep))

    f = facts("docker run -d -v d:/d app sh -c 'echo hi > /d/f'", ("sleep",))
    assert f["cmd.shell_to_entrypoint"] is True and f["cmd.after_image"] == "sh -c 'echo hi > /d/f'"
    assert f["cmd.with_entrypoint"] == ["docker", "run", "-d", "-v", "d:/d", "--entrypoint", "sh", "app", "-c",
                                        "echo hi > /d/f"]
    assert facts("docker run -- app bash -c x", ("java",))["cmd.with_entrypoint"][2:6] == ["--entrypoint", "bash",
                                                                                            "--", "app"]
    for ep in (("docker-entrypoint.sh",), ("/usr/bin/tini", "--"), ("/bin/sh", "-c")):
        assert facts("docker run app sh -c x", ep)["cmd.shell_to_entrypoint"] is False
    assert facts("docker run --entrypoint=sh app sh -c x", ("sleep",))["cmd.shell_to_entrypoint"] is False
    assert facts("docker run app sh", ())["cmd.shell_to_entrypoint"] is None  # no ENTRYPOINT: sh is the command


def test_folders_a_container_wrote_to_outside_its_mounts():
    """Offered first when the conversation asks which folder held the data."""
    from support import snapshot
    from voldoctor import probes

    st = snapshot("path-mismatch-written")
    c = st.container("vdt-web")
    assert c.detail.changes and probes.written_folders(c) == ["/app/data"]  # the mount is at /app/date
    st = snapshot("no-volume-written")
    assert probes.written_folders(st.container("vdt-bare2")) == ["/app/data", "/app/work"]


def test_a_folder_written_where_a_volume_name_goes(tmp_path):
    """'./data' in -v is refused as a volume name: the fix gives that folder from the current
    one, and the path reaches docker as one word even with spaces in it."""
    import subprocess

    from voldoctor import engine, rules
    from voldoctor.facts.volume import folder_of

    assert [folder_of(n) for n in ("./data", "data/in", "./", "my data", "my-data")] == ["data", "data/in", ".",
                                                                                        None, None]
    line = rules.load().rules["volume-name-invalid"].fix_texts[0]
    filled = engine.fill_command(line, {"volume.folder": "my dir/data", "volume.name": "./my dir/data"})
    arg = filled.split("docker run -v ", 1)[1].split(" ...", 1)[0]
    out = subprocess.run(["sh", "-c", f"printf %s {arg}"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert out == f"{tmp_path}/my dir/data:/app/data"


def test_a_slip_in_a_well_known_image_name():
    """'ngnix' is offered as nginx (the tag kept) instead of a pull of the misspelled name."""
    from voldoctor.facts.daemon import known_near

    assert [known_near(r) for r in ("ngnix:latest", "postgress:15", "docker/getting-startd")] == [
        "nginx:latest", "postgres:15", "docker/getting-started"]
    assert [known_near(r) for r in ("nginx", "vdt-busybox:latest", "myapp", "node:20-alpine")] == [None] * 4


@pytest.mark.parametrize("mounted,wanted,slip", [
    ("/srv/blgo", "/srv/blog", True), ("/app/date", "/app/data", True), ("/usr/share/ngnix/html", "/usr/share/nginx/html", True),
    ("/data", "/var/lib/mysql", False), ("/app/db", "/app/data", False), ("/srv/www", "/srv/web", False),
    ("/var/lib/postgresql", "/var/lib/postgresql/data", False), ("/app/data", "/app/data", False)])
def test_a_mount_one_slip_from_the_path_in_question(mounted, wanted, slip):
    from voldoctor.facts.container import slipped
    assert slipped(mounted, wanted) is slip


def test_a_volume_of_its_own_never_takes_the_name_of_one_that_exists():
    """mount-path-mismatch's 'volume of its own' would otherwise mount an unrelated volume with files."""
    from support import snapshot
    from voldoctor.facts.container import produce
    from voldoctor.state import Volume

    st = snapshot("path-mismatch-beside-used")
    c = st.container("vdt-api")
    q = Query(paths=("/srv/files",))
    assert produce(c, q, True, st)["path.named_volume"] == "vdt-api-data"
    taken = st.model_copy(update={"volumes": st.volumes + (Volume(name="vdt-api-data", driver="local"),)})
    f = produce(c, q, True, taken)
    assert f["path.named_volume"] == "vdt-api-data-2" and "vdt-api-data-2:/srv/files" in f["path.rerun_named"]
