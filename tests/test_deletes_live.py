"""Every deletion forecast against reality: build a state on the private
daemon, ask voldoctor what a cleanup command deletes, run the real command
(the docker CLI; Debian's docker-compose for Compose) and compare the
prediction with what actually disappeared."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


from support.dockerd import IMAGES, build_images

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("no_new_volumes_left")]  # see support.dockerd
RESULTS: list[tuple[str, list, list, list, list]] = []  # for the summary printed at the end




def inventory(api) -> tuple[set[str], set[str]]:
    vols = {v["Name"] for v in (api.volumes().get("Volumes") or [])}
    conts = {(c.get("Names") or ["/" + c["Id"][:12]])[0].lstrip("/") for c in api.containers(all=True)}
    return vols, conts


def run_real(host: str, cmd: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_HOST": host}
    env.pop("DOCKER_CONTEXT", None)
    return subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def check(lab, host, cli_json, cmd: str, project: Path | None = None, filled=(), empty=()) -> dict:
    """Predict, run, compare; returns the forecast."""
    argv = ["diagnose", cmd] + (["--project", str(project)] if project else [])
    code, out = cli_json(*argv)
    d = out["deletes"]
    assert d is not None, out
    by_name = {v["name"]: v for v in d["volumes"]}
    for n in filled:
        assert by_name[n]["has_files"] is True and by_name[n]["size_bytes"] > 0, by_name[n]
    for n in empty:
        assert by_name[n]["has_files"] is False, by_name[n]
    if any(v["has_files"] for v in d["volumes"]):
        assert code == 1  # data would be lost: a problem
    before_v, before_c = inventory(lab.api)
    r = run_real(host, cmd, cwd=project)
    after_v, after_c = inventory(lab.api)
    gone_v, gone_c = before_v - after_v, before_c - after_c
    pred_v = {v["name"] for v in d["volumes"] if v["name"]}
    RESULTS.append((cmd, sorted(pred_v), sorted(gone_v), sorted(d["containers"]), sorted(gone_c)))
    assert pred_v == gone_v, (cmd, r.stderr, pred_v, gone_v)
    assert set(d["containers"]) == gone_c, (cmd, r.stderr, d["containers"], gone_c)
    if d["refused"]:
        assert r.returncode != 0, r
    return d


def fill(lab, volume: str, nbytes: int = 4096) -> None:
    lab.run(lab.name("filler"), command=("sh", "-c", f"head -c {nbytes} /dev/zero > /v/data.bin"),
            binds=[f"{volume}:/v"])
    lab.api.remove_container(lab.containers.pop())


def api_version(lab) -> tuple[int, int]:
    return tuple(int(x) for x in lab.api.version()["ApiVersion"].split(".")[:2])


@pytest.fixture
def clean_daemon(lab):
    """Prune commands act on the whole daemon: start from no containers or
    volumes left over by other tests, and put the test images back after."""
    for c in lab.api.containers(all=True):
        lab.api.remove_container(c["Id"], force=True, v=True)
    for v in lab.api.volumes().get("Volumes") or []:
        try:
            lab.api.remove_volume(v["Name"], force=True)
        except Exception:
            pass
    yield lab
    have = {t for i in lab.api.images() for t in (i.get("RepoTags") or [])}
    if not set(IMAGES) <= have:
        build_images(lab.api)


def test_docker_rm(lab, on_daemon, cli_json):
    named = lab.volume(lab.name("keep"))
    fill(lab, named)
    a = lab.container(lab.name("stopped"), image="vdt-busybox-vol:latest", binds=[f"{named}:/named"], start=False)
    lab.container(lab.name("running"), image="vdt-busybox-vol:latest")
    anon = next(m["Name"] for m in lab.api.inspect_container(a)["Mounts"] if m["Destination"] == "/app/data")
    d = check(lab, on_daemon, cli_json, f"docker rm -v {lab.name('stopped')} {lab.name('running')}", empty=[anon])
    assert named in d["kept"] and any("running" in n for n in d["notes"])
    check(lab, on_daemon, cli_json, f"docker rm -f {lab.name('running')}")  # no -v: its anonymous volume stays
    check(lab, on_daemon, cli_json, f"docker container rm {lab.name('nothing-here')}")


def test_docker_volume_rm(lab, on_daemon, cli_json):
    free, held = lab.volume(lab.name("free")), lab.volume(lab.name("held"))
    fill(lab, free)
    lab.container(lab.name("holder"), binds=[f"{held}:/d"], start=False)
    d = check(lab, on_daemon, cli_json, f"docker volume rm {free} {held} {lab.name('missing')}", filled=[free])
    assert any("in use" in n for n in d["notes"])
    out = cli_json("diagnose", f"docker volume rm {held}")[1]
    assert out["deletes"]["volumes"] == []


def test_container_prune(clean_daemon, on_daemon, cli_json):
    lab = clean_daemon
    v = lab.volume(lab.name("v"))
    lab.container(lab.name("stopped"), binds=[f"{v}:/v"], start=False)
    lab.container(lab.name("exited"), image="vdt-busybox-vol:latest", command=("true",))
    lab.container(lab.name("running"))
    lab.api.wait(lab.name("exited"))
    d = check(lab, on_daemon, cli_json, "docker container prune -f")
    assert sorted(d["containers"]) == sorted([lab.name("stopped"), lab.name("exited")]) and d["volumes"] == []


def _prune_state(lab):
    named_free = lab.volume(lab.name("named-free"))
    fill(lab, named_free)
    named_used = lab.volume(lab.name("named-used"))
    named_by_stopped = lab.volume(lab.name("named-by-stopped"))
    lab.container(lab.name("running"), binds=[f"{named_used}:/v"])
    lab.container(lab.name("stopped"), image="vdt-busybox-vol:latest", binds=[f"{named_by_stopped}:/v"], start=False)
    lab.container(lab.name("anon-run"), image="vdt-busybox-vol:latest", command=("true",))
    lab.api.wait(lab.name("anon-run"))
    lab.api.remove_container(lab.name("anon-run"))  # leaves its anonymous volume behind, unused
    return named_free, named_used, named_by_stopped


def test_volume_prune(clean_daemon, on_daemon, cli_json):
    lab = clean_daemon
    named_free, named_used, _ = _prune_state(lab)
    d = check(lab, on_daemon, cli_json, "docker volume prune -a -f")
    if api_version(lab) < (1, 42):
        assert d["refused"] and d["volumes"] == []
    d = check(lab, on_daemon, cli_json, "docker volume prune -f", filled=[named_free] if api_version(lab) < (1, 42) else ())
    names = {v["name"] for v in d["volumes"]}
    assert named_used not in names
    if api_version(lab) < (1, 42):
        assert named_free in names  # older engines prune named volumes too


@pytest.mark.parametrize("flags", ["-f", "--volumes -f", "-a --volumes -f"])
def test_system_prune(clean_daemon, on_daemon, cli_json, flags):
    lab = clean_daemon
    named_free, named_used, named_by_stopped = _prune_state(lab)
    before = {i["Id"]: ", ".join(t for t in (i.get("RepoTags") or []) if t != "<none>:<none>")
              or i["Id"].removeprefix("sha256:")[:12] for i in lab.api.images()}
    d = check(lab, on_daemon, cli_json, f"docker system prune {flags}")
    after = {i["Id"] for i in lab.api.images()}
    assert set(d["images"]) == {shown for iid, shown in before.items() if iid not in after}, (d["images"], before)
    if "-a" in flags:
        assert d["images"]  # the test images no running container uses
    names = {v["name"] for v in d["volumes"]}
    assert lab.name("stopped") in d["containers"] and lab.name("running") not in d["containers"]
    if "--volumes" in flags and api_version(lab) < (1, 42):
        assert {named_free, named_by_stopped} <= names and named_used not in names
    if "--volumes" not in flags:
        assert names == set()


def test_run_rm(lab, on_daemon, cli_json):
    named = lab.name("made-by-run")
    lab.volumes.append(named)
    cmd = (f"docker run --rm --network none -v /scratch -v {named}:/keep vdt-busybox-vol:latest "
           "sh -c 'echo x > /scratch/f; echo y > /keep/f; echo z > /app/data/f'")
    code, out = cli_json("diagnose", cmd)
    d = out["deletes"]
    assert d["when"] == "at exit" and d["containers"] == ["(the new container)"]
    assert sorted(v.get("target") for v in d["volumes"]) == ["/app/data", "/scratch"]
    assert all(v["name"] is None for v in d["volumes"]) and named in d["kept"]
    before_v, before_c = inventory(lab.api)
    r = run_real(on_daemon, cmd)
    assert r.returncode == 0, r.stderr
    after_v, after_c = inventory(lab.api)
    RESULTS.append((cmd, ["2 new anonymous"], sorted(before_v - after_v), d["containers"], sorted(before_c - after_c)))
    assert after_c == before_c  # the container went at exit
    assert after_v - before_v == {named} and before_v - after_v == set()  # both anonymous ones went with it


# ------------------------------------------------------------ Compose (Debian's docker-compose 1.29)

needs_compose = pytest.mark.skipif(shutil.which("docker-compose") is None and os.environ.get("VOLDOCTOR_REQUIRE_DAEMON") != "1",
                                   reason="docker-compose is not installed (apt-get install docker-compose)")

COMPOSE = """\
services:
  web:
    image: vdt-busybox-vol:latest
    command: ["sleep", "600"]
    network_mode: none
    stop_grace_period: 1s  # sleep as PID 1 ignores SIGTERM: do not wait 10 s on each stop
    volumes:
      - data:/data
      - shared:/shared
  worker:
    image: vdt-busybox:latest
    command: ["sleep", "600"]
    network_mode: none
    stop_grace_period: 1s  # sleep as PID 1 ignores SIGTERM: do not wait 10 s on each stop
    volumes:
      - data:/data
      - /scratch
volumes:
  data: {}
  spare: {}
  shared:
    external: true
    name: SHARED
"""


@pytest.fixture
def compose_project(lab, on_daemon):
    d = lab.tmp / lab.tag
    d.mkdir()
    shared = lab.volume(lab.name("shared"))
    (d / "compose.yaml").write_text(COMPOSE.replace("SHARED", shared))
    r = run_real(on_daemon, "docker-compose up -d", cwd=d)
    assert r.returncode == 0, r.stderr
    r = run_real(on_daemon, "docker-compose run -d worker sleep 600", cwd=d)  # a one-off container
    assert r.returncode == 0, r.stderr
    project = lab.tag  # the folder's name, already a valid one
    # an orphan: a container of this project whose service left the file
    lab.container(lab.name("orphan"), image="vdt-busybox-vol:latest",
                  labels={"com.docker.compose.project": project, "com.docker.compose.service": "gone",
                          "com.docker.compose.oneoff": "False"})
    fill(lab, f"{project}_data")
    run_real(on_daemon, "docker volume create " + f"{project}_spare")
    yield d, project
    run_real(on_daemon, "docker-compose down -v --remove-orphans", cwd=d)
    for c in lab.api.containers(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        lab.api.remove_container(c["Id"], force=True, v=True)
    for v in (f"{project}_data", f"{project}_spare"):
        try:
            lab.api.remove_volume(v, force=True)
        except Exception:
            pass


@needs_compose
def test_compose_down(lab, on_daemon, cli_json, compose_project):
    d, project = compose_project
    out = check(lab, on_daemon, cli_json, "docker-compose down", project=d)
    assert out["volumes"] == [] and lab.name("orphan") not in out["containers"]
    assert len(out["containers"]) == 3  # web, worker and the one-off run


@needs_compose
def test_compose_down_volumes(lab, on_daemon, cli_json, compose_project):
    d, project = compose_project
    out = check(lab, on_daemon, cli_json, "docker-compose down -v", project=d, filled=[f"{project}_data"])
    names = {v["name"] for v in out["volumes"]}
    assert {f"{project}_data", f"{project}_spare"} <= names and lab.name("shared") not in names
    assert lab.name("shared") in out["kept"]


@needs_compose
def test_compose_down_volumes_orphans(lab, on_daemon, cli_json, compose_project):
    d, project = compose_project
    out = check(lab, on_daemon, cli_json, "docker-compose down -v --remove-orphans", project=d)
    assert lab.name("orphan") in out["containers"]


@needs_compose
def test_compose_rm(lab, on_daemon, cli_json, compose_project):
    d, project = compose_project
    run_real(on_daemon, "docker-compose stop worker", cwd=d)
    out = check(lab, on_daemon, cli_json, "docker-compose rm -f -v", project=d)
    assert out["containers"] and all("worker" in c for c in out["containers"])
    out = check(lab, on_daemon, cli_json, "docker-compose rm -fsv web", project=d)
    assert len(out["containers"]) == 1


def test_zz_print_results(capsys):
    """The comparison table, for the record (-s shows it)."""
    with capsys.disabled():
        for cmd, pv, gv, pc, gc in RESULTS:
            print(f"\n{cmd}\n  volumes predicted {pv}\n  volumes deleted   {gv}\n  containers predicted {pc}\n"
                  f"  containers deleted   {gc}")


@pytest.mark.parametrize("cmd", ["docker volume rm $(docker volume ls -q)",
                                 "docker volume rm `docker volume ls -q --filter dangling=true`"])
def test_volume_rm_of_what_the_shell_lists(clean_daemon, on_daemon, cli_json, cmd):
    """The shell fills in the list before Docker runs: every volume it prints goes, unless in use."""
    lab = clean_daemon
    free, held = lab.volume(lab.name("free")), lab.volume(lab.name("held"))
    fill(lab, free)
    lab.container(lab.name("holder"), binds=[f"{held}:/d"], start=False)
    d = check(lab, on_daemon, cli_json, cmd, filled=[free])
    assert [v["name"] for v in d["volumes"]] == [free] and not d["unknown"]


@pytest.mark.parametrize("cmd", ["docker rm -f $(docker ps -aq)", "docker rm $(docker ps -q -f status=exited)",
                                 "docker rm -f $(docker ps -q)"])
def test_rm_of_what_the_shell_lists(clean_daemon, on_daemon, cli_json, cmd):
    lab = clean_daemon
    lab.container(lab.name("up"))
    lab.run(lab.name("done"), command=("true",))
    d = check(lab, on_daemon, cli_json, cmd)
    assert d["containers"] and not d["unknown"]


def test_a_list_the_shell_makes_in_a_way_not_read_here_is_never_nothing(lab, on_daemon, cli_json):
    code, out = cli_json("diagnose", "docker volume rm $(cat volumes.txt)")
    assert out["deletes"]["unknown"] is True and code == 1
    assert any("cannot tell" in n for n in out["deletes"]["notes"])
