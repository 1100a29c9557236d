"""Live tests: every scenario built for real on the private daemon."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support import FIX_COUNTS, fixcheck
from support.scenarios import AS_MEANT, SCENARIOS
from voldoctor.daemon import DF_MAX_UNUSED as DF_LIMIT
from voldoctor import daemon, engine, rules, state as st

pytestmark = pytest.mark.live
SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def _ask(argv, source):
    """Run diagnose's argument list through the engine with a given state source."""
    from voldoctor.cli import build_parser

    args = build_parser().parse_args(["diagnose", *argv])
    return engine.answer(" ".join(args.text), rules.load(), source, volume=args.volume, container=args.container)


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.name)
def test_scenario_live(sc, lab, on_daemon, cli_json):
    sc.build(lab)
    code, out = cli_json("diagnose", *sc.argv)
    got = [d["rule"] for d in out["diagnoses"]]
    problems = [d["rule"] for d in out["diagnoses"] if d["severity"] != "info"]
    assert out["daemon"]["reachable"] is True
    if sc.first is None:
        assert problems == [], out["diagnoses"]
        assert code == 0
    else:
        assert got and got[0] == sc.first, got
        assert code == (0 if out["diagnoses"][0]["severity"] == "info" else 1)
        for k, v in sc.evidence.items():
            assert out["diagnoses"][0]["evidence"].get(k) == v, (k, out["diagnoses"][0]["evidence"])
    for r in sc.absent:
        assert r not in got
    # The same question replayed from a snapshot of this very state gives the same answer.
    ep = daemon.resolve_endpoint(on_daemon)
    live_state = {}

    def source(pick):
        live_state["s"] = daemon.collect(ep, 10, pick)
        return live_state["s"]

    a = _ask(sc.argv, source)
    replayed = st.loads(st.dump(live_state["s"]))
    b = _ask(sc.argv, lambda pick: replayed)
    assert [d.message for d in a.diagnoses] == [d.message for d in b.diagnoses]
    if os.environ.get("VOLDOCTOR_CAPTURE") == "1":
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        case = {"argv": list(sc.argv), "first": sc.first}
        (SNAPSHOTS / f"{sc.name}.json").write_text(
            json.dumps({"case": case, "state": json.loads(st.dump(live_state["s"]))}, indent=1) + "\n")

    for d in out["diagnoses"][1 if sc.verify else 0:]:  # every fix line is a command that works on this very state
        assert fixcheck.check(d["fix"], on_daemon, lab) == [], (d["rule"], d["fix"])
    if sc.verify:  # fix -> verify: run the cause's fix lines as printed, then ask again
        fix = out["diagnoses"][0]["fix"]
        assert not any("..." in line and "docker run" in line and sc.first in REBUILT for line in fix), fix
        problems, ran = fixcheck.run_all(fix, on_daemon, lab)
        after = sc.argv
        if sc.then is not None:  # the pasted command, corrected as the fix says, is run for real
            assert sc.uses and sc.uses in sc.then and any(sc.uses in line for line in fix), (sc.uses, sc.then, fix)
            assert fixcheck.parses(sc.then), sc.then
            more, n = fixcheck.run_all([sc.then], on_daemon, lab)
            problems, ran, after = problems + more, ran + n, (sc.then,)
        if sc.after == AS_MEANT:
            assert fixcheck.corrected(fix) is not None, fix
            after = (fixcheck.corrected(fix),)
        elif sc.after is not None:
            after = sc.after
        FIX_COUNTS["run"] += ran
        assert (ran >= 1 or sc.unverified) and problems == [], (fix, problems)
        code, again = cli_json("diagnose", *after)
        rules_again = [d["rule"] for d in again["diagnoses"]]
        if sc.unverified:  # the cause cannot be removed here: it must still be reported, and the reason is printed
            assert sc.first in rules_again, again["diagnoses"]
            assert sc.goal is None or sc.goal(lab), "what the fix can do here did not happen"
            FIX_COUNTS["unverified"][sc.name] = sc.unverified
            return
        if sc.info:  # information, not a fault: asked again, the same information
            assert again["diagnoses"] and again["diagnoses"][0]["rule"] == sc.first, again["diagnoses"]
            assert again["diagnoses"][0]["severity"] == "info", again["diagnoses"]
        else:
            assert sc.first not in rules_again, again["diagnoses"]
        if after != sc.argv:  # the corrected command (or question) has no fault left at all
            assert [d["rule"] for d in again["diagnoses"] if d["severity"] != "info"] == [], again["diagnoses"]
        assert sc.goal is None or sc.goal(lab), "the learner's goal does not hold after the fix"
        FIX_COUNTS["verified"] += ran


# Causes whose fix rebuilds the container from its real configuration: no '...' in their run lines.
REBUILT = ("mounted-read-only", "mounted-near-miss", "anonymous-volume-left-behind", "auto-remove-anonymous-volume",
           "mount-path-mismatch", "container-without-volume", "bind-created-as-root",
           "mount-hides-image-content", "read-only-root-write")


def _docker_cli(host, line):
    env = {**os.environ, "DOCKER_HOST": host}
    cmd = line[line.index("docker "):].split("   (")[0]  # "Prose: docker ...   (note)"
    return subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True, timeout=60)


def test_uid_mismatch_fix_works(lab, on_daemon, cli_json):
    lab.volume("vdt-fixme")
    lab.container("vdt-fixuser", user="1000", binds=["vdt-fixme:/data"])
    assert lab.run("vdt-probe1", user="1000", command=("touch", "/data/f"), binds=["vdt-fixme:/data"]) != 0
    code, out = cli_json("diagnose", "touch: /data/f: Permission denied")
    d = out["diagnoses"][0]
    assert d["rule"] == "uid-mismatch" and code == 1
    chown = _docker_cli(on_daemon, d["fix"][0])
    assert chown.returncode == 0, (d["fix"][0], chown.stderr)
    assert lab.api.containers(all=True, filters={"ancestor": "vdt-busybox:latest", "status": "exited",
                                                 "name": "fix"}) == []
    # the printed fix removes its throwaway container (--rm); nothing is left behind
    assert lab.run("vdt-probe2", user="1000", command=("touch", "/data/f"), binds=["vdt-fixme:/data"]) == 0
    code, out = cli_json("diagnose", "touch: /data/f: Permission denied")
    assert "uid-mismatch" not in [x["rule"] for x in out["diagnoses"]]
    assert code == 0


def test_read_only_root_gets_a_volume_and_stays_read_only(lab, on_daemon, cli_json):
    """The first fix line alone (the scenario runs them all): the folder gets a volume, the rest stays read-only."""
    lab.volume("vdt-rootvol2")
    lab.container("vdt-rootro2", binds=["vdt-rootvol2:/data"], read_only=True, tmpfs={"/run": "size=1m"})
    code, out = cli_json("diagnose", "mkdir: can't create directory '/srv/cache/tmp': Read-only file system")
    d = out["diagnoses"][0]
    assert d["rule"] == "read-only-root-write" and code == 1 and d["evidence"]["path.write_dir"] == "/srv/cache"
    assert _docker_cli(on_daemon, d["fix"][0]).returncode == 0, d["fix"][0]
    lab.volumes.append("vdt-rootro2-data")
    info = lab.api.inspect_container("vdt-rootro2")
    lab.containers.append(info["Id"])  # made again by the fix line
    assert info["HostConfig"]["ReadonlyRootfs"] is True and info["HostConfig"]["Tmpfs"] == {"/run": "size=1m"}
    assert {m["Destination"]: m.get("Name") for m in info["Mounts"]} == {"/data": "vdt-rootvol2",
                                                                         "/srv/cache": "vdt-rootro2-data"}
    ex = lab.api.exec_create("vdt-rootro2", ["mkdir", "-p", "/srv/cache/tmp"])
    lab.api.exec_start(ex["Id"])
    assert lab.api.exec_inspect(ex["Id"])["ExitCode"] == 0
    code, again = cli_json("diagnose", "mkdir: can't create directory '/srv/cache/tmp': Read-only file system")
    assert [x["rule"] for x in again["diagnoses"] if x["severity"] != "info"] == [] and code == 0


def test_a_folder_docker_made_for_a_file_is_replaced_by_the_file(lab, on_daemon, cli_json):
    """Every printed line, in order: the host lines run here as root (sudo dropped), the
    learner's part is writing the file itself; afterwards the container sees the file."""
    conf = lab.tmp / "site.conf"
    lab.container("vdt-conf2", binds=[f"{conf}:/etc/site.conf"])
    assert conf.is_dir()  # what the daemon did
    code, out = cli_json("diagnose", "my site.conf is a directory inside the container", "--container", "vdt-conf2")
    d = out["diagnoses"][0]
    assert d["rule"] == "bind-file-made-folder" and code == 1, out["diagnoses"]
    look, rmdir, again = (line.split(": ", 1)[1].split("   (")[0] for line in d["fix"][:3])
    assert subprocess.run(["sh", "-c", look], capture_output=True).returncode == 0
    mine = lab.tmp / "config" / "site.conf"  # the file the learner meant, one folder off
    mine.parent.mkdir()
    mine.write_text("listen 80\n")
    assert subprocess.run(["sh", "-c", rmdir]).returncode != 0 and conf.is_dir()  # as printed: nothing happens
    env = {**os.environ, "DOCKER_HOST": on_daemon}
    assert subprocess.run(["sh", "-c", again], env=env).returncode != 0  # nor the restart before the file is there
    assert conf.is_dir() and lab.api.inspect_container("vdt-conf2")
    line = rmdir.replace("YOUR_FILE", str(mine))  # the learner's part: which file
    assert subprocess.run(["sh", "-c", line]).returncode == 0 and conf.is_file()
    assert subprocess.run(["sh", "-c", again], env=env).returncode == 0, again
    lab.containers.append(lab.api.inspect_container("vdt-conf2")["Id"])  # made again by the fix line
    ex = lab.api.exec_create("vdt-conf2", ["cat", "/etc/site.conf"])
    assert lab.api.exec_start(ex["Id"]) == b"listen 80\n"
    code, out = cli_json("diagnose", "my site.conf is a directory inside the container", "--container", "vdt-conf2")
    assert "bind-file-made-folder" not in [x["rule"] for x in out["diagnoses"]]


def test_a_bare_name_written_for_a_folder_here(lab, on_daemon, cli_json, monkeypatch):
    """'-v site:/srv/www' in the folder that holds ./site names a volume: the printed
    command, run as printed, mounts the folder, and the container reads its file."""
    (lab.tmp / "site").mkdir()
    (lab.tmp / "site" / "index.html").write_text("hi\n")
    monkeypatch.chdir(lab.tmp)
    line = "docker run -d -v site:/srv/www vdt-busybox:latest sleep 600"
    code, out = cli_json("diagnose", line)
    d = out["diagnoses"][0]
    assert d["rule"] == "run-volume-meant-folder" and code == 1, out["diagnoses"]
    assert d["evidence"]["spec.folder_here"] == str(lab.tmp / "site")
    printed = d["fix"][0].split(": ", 1)[1]
    before = {c["Id"] for c in lab.api.containers(all=True)}
    p = _docker_cli(on_daemon, d["fix"][0])
    assert p.returncode == 0, (printed, p.stderr)
    new = [c["Id"] for c in lab.api.containers(all=True) if c["Id"] not in before]
    lab.containers += new
    ex = lab.api.exec_create(new[0], ["cat", "/srv/www/index.html"])
    assert lab.api.exec_start(ex["Id"]) == b"hi\n"
    code, again = cli_json("diagnose", printed)
    assert [x["rule"] for x in again["diagnoses"] if x["severity"] != "info"] == [] and code == 0


def test_a_relative_host_path_is_given_back_from_the_current_folder(lab, on_daemon, cli_json, monkeypatch):
    """'-v ./site:/srv/www' (older clients read it as a volume name): the printed command, run as
    printed from that folder, mounts the folder."""
    (lab.tmp / "site").mkdir()
    (lab.tmp / "site" / "index.html").write_text("hi\n")
    monkeypatch.chdir(lab.tmp)
    code, out = cli_json("diagnose", "docker run -d -v ./site:/srv/www vdt-busybox:latest sleep 600")
    d = next(x for x in out["diagnoses"] if x["rule"] == "mount-spec-invalid")
    before = {c["Id"] for c in lab.api.containers(all=True)}
    p = _docker_cli(on_daemon, d["fix"][0])
    assert p.returncode == 0, (d["fix"][0], p.stderr)
    new = [c["Id"] for c in lab.api.containers(all=True) if c["Id"] not in before]
    lab.containers += new
    ex = lab.api.exec_create(new[0], ["cat", "/srv/www/index.html"])
    assert lab.api.exec_start(ex["Id"]) == b"hi\n"


def test_typo_fix_creates_the_volume(lab, on_daemon, cli_json):
    lab.volume("my-data")
    code, out = cli_json("diagnose", "volume not found", "--volume", "my_data")
    fix = out["diagnoses"][0]["fix"]
    assert any("my-data" in f for f in fix) and "docker volume create my_data" in fix[1]
    lab.volumes.append("my_data")
    assert _docker_cli(on_daemon, fix[1]).returncode == 0
    code, out = cli_json("diagnose", "volume not found", "--volume", "my_data")
    assert [d["rule"] for d in out["diagnoses"]] == ["volume-exists-elsewhere"] and code == 0  # info only


def test_names_in_free_text_are_picked_up(lab, on_daemon, cli_json):
    lab.volume("vdt-notes")
    lab.container("vdt-notebox", binds=["vdt-notes:/data:ro"])
    code, out = cli_json("diagnose", "vdt-notebox says read only file system")
    assert out["entities"]["containers"] == ["vdt-notebox"]
    assert out["diagnoses"][0]["rule"] == "mounted-read-only"


def test_request_count_does_not_grow_with_containers(lab, on_daemon, cli_json):
    """A question costs no more daemon requests at 60 containers and 210 volumes (past the volume-sizes limit) than at 10, and never more than MAX_REQUESTS."""
    lab.volume("my-data")
    lab.container("vdt-target", binds=["my-data:/app/date"], start=False)

    questions = ["data in /app/data is gone after docker rm", "data not persisting", "permission denied",
                 "volume not found", "the folder looks empty"]  # the last fits several symptoms: all are looked at

    def count():
        code, out = cli_json("diagnose", questions[0])
        assert out["diagnoses"][0]["rule"] == "mount-path-mismatch"
        return [out["daemon"]["requests"]] + [cli_json("diagnose", q, "--volume", "my-data")[1]["daemon"]["requests"]
                                              for q in questions[1:]]

    for i in range(9):
        lab.container(f"{lab.tag}-filler{i}", command=("true",), start=False)
    small = count()
    for i in range(9, 60):
        lab.container(f"{lab.tag}-filler{i}", command=("true",), start=False)
    for i in range(DF_LIMIT + 10):
        lab.volume(f"{lab.tag}-v{i}")
    big = count()
    assert all(b <= a for a, b in zip(small, big)), (small, big)  # never more; sizes are skipped past 200 unused
    assert max(small + big) <= daemon.MAX_REQUESTS


def test_root_owner_is_never_offered_as_the_user_to_run_as(lab, on_daemon, cli_json):
    """When the folder belongs to root, 'run as the owner' would mean running as root: not offered."""
    lab.volume("vdt-rootowned")
    lab.container("vdt-rootuser", user="1000", binds=["vdt-rootowned:/data"])
    code, out = cli_json("diagnose", "touch: /data/f: Permission denied", "--container", "vdt-rootuser")
    d = out["diagnoses"][0]
    assert d["rule"] == "uid-mismatch" and d["evidence"]["mount.owner_uid"] == 0
    assert not any("--user 0 ..." in f or "run the container as the owner" in f for f in d["fix"]), d["fix"]


def test_port_suggestion_is_a_real_free_port(lab, on_daemon, cli_json):
    import socket

    from support import busy_port
    from voldoctor import hostfs

    with busy_port() as port:
        code, out = cli_json("diagnose", f"docker run -d -p {port}:80 vdt-busybox:latest")
    d = next(x for x in out["diagnoses"] if x["rule"] == "port-in-use")
    line = next(f for f in d["fix"] if "free here" in f)
    free = int(line.split("-p ")[1].split(":")[0])
    assert 1 <= free <= 65535 and free != port and not any(f"-p {port}1:" in f for f in d["fix"])
    with socket.socket() as s:
        s.bind(("0.0.0.0", free))  # it is free indeed
    for near in (65535, 289651, 0):  # never past the last port, whatever was asked
        assert 1024 <= hostfs.free_port(near, set()) <= 65535


def test_a_slipped_bind_folder_in_a_pasted_command(lab, on_daemon, cli_json):
    """'-v .../sites:...' where the folder is ./site: the command is given back with the folder that exists."""
    (lab.tmp / "site").mkdir()
    (lab.tmp / "site" / "index.html").write_text("hi\n")
    cmd = f"docker run -d --name vdt-www --network none -v {lab.tmp}/sites:/www vdt-busybox:latest sleep 600"
    code, out = cli_json("diagnose", cmd)
    d = next(x for x in out["diagnoses"] if x["rule"] == "bind-source-missing")
    line = next(x for x in d["fix"] if x.startswith("Next to it"))
    assert d["evidence"]["spec.near_source"] == f"{lab.tmp}/site" and code == 1
    r = subprocess.run(["sh", "-c", line.split(": ", 1)[1]], env={**os.environ, "DOCKER_HOST": on_daemon},
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lab.containers.append(lab.api.inspect_container("vdt-www")["Id"])
    ex = lab.api.exec_create("vdt-www", ["cat", "/www/index.html"])
    assert lab.api.exec_start(ex["Id"]) == b"hi\n" and not (lab.tmp / "sites").exists()
