"""Project findings on the private daemon: each one built for real (Compose
1.29 and the docker CLI do what the finding says), and a healthy project
that stays quiet."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


pytestmark = [pytest.mark.live, pytest.mark.usefixtures("no_new_volumes_left"), pytest.mark.skipif(
    shutil.which("docker-compose") is None and os.environ.get("VOLDOCTOR_REQUIRE_DAEMON") != "1",
    reason="docker-compose is not installed (apt-get install docker-compose)")]



# sleep as PID 1 ignores SIGTERM: a short grace keeps `down` from waiting 10 s per container
SVC = "    image: vdt-busybox:latest\n    command: [\"sleep\", \"600\"]\n    network_mode: none\n    stop_grace_period: 1s\n"


def sh(host, cmd, cwd=None, **env):
    e = {**os.environ, "DOCKER_HOST": host, **env}
    e.pop("DOCKER_CONTEXT", None)
    return subprocess.run(["sh", "-c", cmd], cwd=cwd, env=e, capture_output=True, text=True, timeout=120)


@pytest.fixture
def proj(lab, on_daemon):
    """A project folder named after the lab; everything Compose made for it is removed after."""
    made = []

    def make(files: dict, name: str | None = None):
        d = lab.tmp / (name or lab.tag)
        d.mkdir(exist_ok=True)
        for k, v in files.items():
            (d / k).write_text(v)
        made.append(d)
        return d

    yield make
    for d in made:
        if d.exists():
            sh(on_daemon, "docker-compose down -v --remove-orphans", cwd=d)
    mark = lab.tag[4:]  # the lab's hex: in every project and volume name these tests make
    for c in lab.api.containers(all=True, filters={"label": "com.docker.compose.project"}):
        if mark in c["Labels"]["com.docker.compose.project"]:
            lab.api.remove_container(c["Id"], force=True, v=True)
    for v in lab.api.volumes().get("Volumes") or []:
        if mark in v["Name"]:
            try:
                lab.api.remove_volume(v["Name"], force=True)
            except Exception:
                pass


def rules_of(out):
    return [d["rule"] for d in out["diagnoses"] if d["severity"] != "info"]


def ask(cli_json, d, *extra):
    code, out = cli_json("diagnose", "--project", str(d), *extra)
    return code, out, rules_of(out)


def test_undeclared_volume(proj, on_daemon, cli_json):
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    volumes:\n      - cache:/cache\n"})
    code, out, got = ask(cli_json, d)
    assert got == ["project-volume-undeclared"] and code == 1
    assert ask(cli_json, d, "--offline")[2] == ["project-volume-undeclared"]  # a linter: no daemon needed
    r = sh(on_daemon, "docker-compose config -q", cwd=d)
    assert r.returncode != 0 and "cache" in r.stderr  # Compose refuses it too
    (d / "compose.yaml").write_text(f"services:\n  web:\n{SVC}    volumes:\n      - cache:/cache\nvolumes:\n  cache: {{}}\n")
    assert ask(cli_json, d)[2] == []
    assert sh(on_daemon, "docker-compose config -q", cwd=d).returncode == 0


def test_external_missing(lab, proj, on_daemon, cli_json):
    ext = lab.name("shared")
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    volumes:\n      - shared:/s\n"
                              f"volumes:\n  shared:\n    external: true\n    name: {ext}\n"})
    code, out, got = ask(cli_json, d)
    assert got == ["project-external-missing"]
    fix = out["diagnoses"][0]["fix"][0]
    assert fix.endswith(f"docker volume create {ext}")
    assert f"(Compose then creates {ext})" in out["diagnoses"][0]["fix"][1]  # its name:, not the project's prefix
    assert sh(on_daemon, "docker-compose up -d", cwd=d).returncode != 0  # Compose refuses to start
    lab.volumes.append(ext)
    assert sh(on_daemon, fix.split(": ", 1)[1]).returncode == 0
    assert ask(cli_json, d)[2] == []
    assert sh(on_daemon, "docker-compose up -d", cwd=d).returncode == 0


def test_renamed_project(lab, proj, on_daemon, cli_json):
    files = {"compose.yaml": f"services:\n  web:\n{SVC}    volumes:\n      - data:/data\nvolumes:\n  data: {{}}\n"}
    old = proj(files, "oldname-" + lab.tag[4:])
    assert sh(on_daemon, "docker-compose up -d && docker-compose exec -T web sh -c 'head -c 5000 /dev/zero > /data/f'"
              " && docker-compose down", cwd=old).returncode == 0
    new = old.rename(old.parent / ("newname-" + lab.tag[4:]))
    code, out, got = ask(cli_json, new)
    assert got == ["project-renamed"]
    ev = out["diagnoses"][0]["evidence"]
    assert ev["project.old_volume"] == f"oldname-{lab.tag[4:]}_data"
    assert ev["project.volume"] == f"newname-{lab.tag[4:]}_data" and "KB" in ev["project.old_size"]
    # way out 2: the old project name finds the data again
    r = sh(on_daemon, f"docker-compose -p oldname-{lab.tag[4:]} run --rm -T web ls /data", cwd=new)
    assert r.returncode == 0 and "f" in r.stdout.split()
    sh(on_daemon, f"docker-compose -p oldname-{lab.tag[4:]} down", cwd=new)
    # after 'up' under the new name (when the learner notices), the new volume is there and empty: still found
    assert sh(on_daemon, "docker-compose up -d", cwd=new).returncode == 0
    code, out, got = ask(cli_json, new)
    assert got == ["project-renamed"] and "is there but empty" in out["diagnoses"][0]["message"]
    sh(on_daemon, "docker-compose down", cwd=new)
    lab.volumes.append(f"newname-{lab.tag[4:]}_data")
    # way out 1: name: in the file
    (new / "compose.yaml").write_text(files["compose.yaml"].replace("  data: {}\n", f"  data:\n    name: oldname-{lab.tag[4:]}_data\n"))
    assert ask(cli_json, new)[2] == []


def test_bind_versus_volume_and_root_made_folder(lab, proj, on_daemon, cli_json):
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    user: \"1000\"\n    volumes:\n      - ./data:/app/data\n"
                              f"  db:\n{SVC}    volumes:\n      - data:/var/lib/db\nvolumes:\n  data: {{}}\n"})
    os.chown(d, 1000, 1000)  # a learner's folder
    got = ask(cli_json, d)[2]
    assert sorted(got) == ["project-bind-missing", "project-bind-or-volume"]
    assert sh(on_daemon, "docker-compose up -d", cwd=d).returncode == 0  # the daemon makes ./data, as root
    assert (d / "data").stat().st_uid == 0
    r = sh(on_daemon, "docker-compose exec -T web touch /app/data/x", cwd=d)
    assert r.returncode != 0 and "Permission denied" in (r.stdout + r.stderr)
    code, out, got = ask(cli_json, d)
    assert "project-bind-root-owned" in got and "project-bind-missing" not in got
    fix = next(x for x in out["diagnoses"] if x["rule"] == "project-bind-root-owned")["fix"][0]
    assert sh(on_daemon, fix.split(": ", 1)[1].replace("sudo ", "")).returncode == 0
    assert sh(on_daemon, "docker-compose exec -T web touch /app/data/x", cwd=d).returncode == 0


def test_service_user_against_volume_owner(lab, proj, on_daemon, cli_json):
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    user: \"1000\"\n    volumes:\n      - data:/srv/data\n"
                              "volumes:\n  data: {}\n"})
    assert ask(cli_json, d)[2] == []  # no volume yet: nothing known
    vol = f"{lab.tag}_data"
    lab.volume(vol)  # made earlier (by root), before the service ever runs
    code, out, got = ask(cli_json, d)
    assert got == ["project-user-owner"] and out["diagnoses"][0]["evidence"]["project.owner_uid"] == 0
    assert sh(on_daemon, "docker-compose run --rm -T web touch /srv/data/x", cwd=d).returncode != 0
    fix = out["diagnoses"][0]["fix"][0].split(": ", 1)[1]  # a local image: nothing is pulled
    assert sh(on_daemon, fix).returncode == 0
    assert ask(cli_json, d)[2] == []
    assert sh(on_daemon, "docker-compose run --rm -T web touch /srv/data/x", cwd=d).returncode == 0


def test_dockerfile_findings(lab, proj, on_daemon, cli_json, monkeypatch):
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    d = proj({"Dockerfile": "FROM vdt-busybox:latest\nUSER app\nVOLUME /data\nRUN echo seed > /data/seed || true\n"})
    code, out, got = ask(cli_json, d)
    assert sorted(got) == ["dockerfile-anonymous-volume", "dockerfile-volume-not-prepared",
                           "dockerfile-writes-after-volume"]
    ev = next(x for x in out["diagnoses"] if x["rule"] == "dockerfile-writes-after-volume")["evidence"]
    assert "classic builder" in ev["project.builder"] and "thrown away" in ev["project.builder"]
    tag = f"{lab.tag}-img:latest"
    r = sh(on_daemon, f"docker build -q -t {tag} .", cwd=d, DOCKER_BUILDKIT="0")
    assert r.returncode == 0, r.stderr
    try:
        before = {v["Name"] for v in lab.api.volumes()["Volumes"] or []}
        r = sh(on_daemon, f"docker run --rm --network none {tag} sh -c 'ls /data; touch /data/x'")
        assert r.returncode != 0 and "Permission denied" in r.stderr  # root-owned fresh volume
        assert "seed" not in r.stdout  # the RUN after VOLUME was thrown away
        for i in range(2):
            lab.container(lab.name(f"anon{i}"), image=tag, command=("true",), start=False)
        made = {v["Name"] for v in lab.api.volumes()["Volumes"] or []} - before
        assert len(made) == 2  # a new anonymous volume per container
    finally:
        for c in list(lab.containers):
            try:
                lab.api.remove_container(c, force=True, v=True)
            except Exception:
                pass
        lab.containers.clear()
        lab.api.remove_image(tag, force=True)
    # the fixed Dockerfile, with a named volume mounted over the path, is quiet
    (d / "Dockerfile").write_text("FROM vdt-busybox:latest\nRUN echo seed > /data/seed && mkdir -p /data "
                                  "&& chown app /data\nUSER app\nVOLUME /data\n")
    (d / "compose.yaml").write_text("services:\n  web:\n    build: .\n    command: [\"sleep\", \"600\"]\n"
                                    "    network_mode: none\n    stop_grace_period: 1s\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n")
    assert ask(cli_json, d)[2] == []


def test_healthy_project_is_quiet(lab, proj, on_daemon, cli_json):
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    user: \"1000\"\n    volumes:\n      - ./site:/site:ro\n"
                              f"      - logs:/logs\n  db:\n{SVC}    volumes:\n      - db-data:/var/lib/db\n"
                              "volumes:\n  db-data: {}\n  logs: {}\n",
              ".env": "COMPOSE_PROJECT_NAME=" + lab.tag + "\n"})
    (d / "site").mkdir()
    (d / "site" / "index.html").write_text("hi\n")
    assert sh(on_daemon, "docker-compose up -d", cwd=d).returncode == 0
    sh(on_daemon, "docker-compose exec -T -u 0 web chown 1000 /logs", cwd=d)
    code, out, got = ask(cli_json, d)
    assert got == [] and code == 0, out["diagnoses"]
    assert ask(cli_json, d, "--offline")[2] == []


def test_check_report_and_conversation_read_the_project(lab, proj, on_daemon, cli, cli_json, tmp_path):
    import json
    import sys
    from pathlib import Path

    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    volumes:\n      - cache:/cache\n"})
    code, out = cli_json("check", "--only", "project", "--project", str(d))
    res = out["checks"][0]
    assert res["status"] == "fail" and "project-volume-undeclared" in res["message"] and code == 1
    code, text, err = cli("report", "--project", str(d), "-o", str(tmp_path / "r.json"))
    rep = json.loads((tmp_path / "r.json").read_text())
    assert "project-volume-undeclared" in [f["rule"] for f in rep["findings"]]
    src = str(Path(__file__).resolve().parent.parent / "src")
    r = subprocess.run([sys.executable, "-m", "voldoctor", "--project", str(d)], input="volume not found\ncache\n",
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": src, "DOCKER_HOST": on_daemon})
    assert "the compose file never declares" in r.stdout, r.stdout + r.stderr


def test_the_dockerfile_fix_goes_where_it_builds(lab, proj, on_daemon, cli_json, monkeypatch):
    """The RUN that prepares a VOLUME for its USER goes before the USER line (after it, it runs as that user and
    cannot chown): inserted where the fix says, the image builds and the user writes its volume."""
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    d = proj({"Dockerfile": "FROM vdt-busybox:latest\nUSER app\nVOLUME /data\n"})
    out = ask(cli_json, d)[1]
    line = next(x for x in out["diagnoses"] if x["rule"] == "dockerfile-volume-not-prepared")["fix"][0]
    at, run = int(line.split("before line ")[1].split(",")[0]), line.split("add: ", 1)[1]
    assert at == 2  # the USER line, not the VOLUME line
    lines = (d / "Dockerfile").read_text().splitlines()
    (d / "Dockerfile").write_text("\n".join(lines[:at - 1] + [run] + lines[at - 1:]) + "\n")
    tag = f"{lab.tag}-prepared:latest"
    assert sh(on_daemon, f"docker build -q -t {tag} .", cwd=d, DOCKER_BUILDKIT="0").returncode == 0
    try:
        r = sh(on_daemon, f"docker run --rm --network none {tag} touch /data/x")
        assert r.returncode == 0, r.stderr
    finally:
        lab.api.remove_image(tag, force=True)


def test_a_missing_bind_folder_made_as_printed_lets_the_service_user_write(lab, proj, on_daemon, cli_json):
    """Both lines as printed, here by root (not the service's uid 1000): the service writes its folder after up."""
    d = proj({"compose.yaml": f"services:\n  web:\n{SVC}    user: \"1000\"\n    volumes:\n      - ./web data:/app/data\n"})
    out = ask(cli_json, d)[1]
    fix = next(x for x in out["diagnoses"] if x["rule"] == "project-bind-missing")["fix"]
    for line in fix[:2]:
        assert sh(on_daemon, line.split(": ", 1)[1], cwd=d).returncode == 0, line
    assert sh(on_daemon, "docker-compose up -d", cwd=d).returncode == 0
    r = sh(on_daemon, "docker-compose exec -T web touch /app/data/x", cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (d / "web data").stat().st_uid == 0  # made by root here, and writable for the service all the same
