"""The daemon's JSON into state values, on answers captured from a real
Docker 20.10 daemon (API 1.41): tests/data/api/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from voldoctor import translate

API = Path(__file__).resolve().parent / "data" / "api"


def raw(name: str):
    return json.loads((API / f"{name}.json").read_text())


def test_info_and_version():
    i = translate.info(raw("version"), raw("info"))
    assert i.server_version == "20.10.24+dfsg1" and i.api_version == "1.41"
    assert i.root_dir.endswith("/root") and "local" in i.volume_drivers and not i.desktop


def test_volumes_keep_labels_and_mountpoints():
    vols = {v.name: v for v in map(translate.volume, raw("volumes")["Volumes"])}
    assert vols["my-data"].labels == {"course": "m4"} and vols["my-data"].mountpoint.endswith("/my-data/_data")
    assert vols["my-data"].driver == "local" and vols["my-data"].created_at


def test_containers_carry_mounts_and_anonymous_volumes():
    anon = {v["Name"] for v in raw("volumes")["Volumes"] if len(v["Name"]) == 64}
    cs = {c.name: c for c in (translate.container(c, anon) for c in raw("containers"))}
    web, lone = cs["web"], cs["anon"]
    assert web.state == "running" and web.mounts[0].name == "my-data" and web.mounts[0].destination == "/app/data"
    assert web.mounts[0].rw and not web.mounts[0].anonymous
    assert lone.state == "exited" and lone.mounts[0].anonymous and lone.mounts[0].destination == "/app/data"


def test_detail_reads_user_env_names_and_changes():
    d = translate.detail(raw("container-web"), passwd=translate.passwd_entry("root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh", "app"))
    assert d.user == "app" and d.passwd == "app:x:1000:1000::/:/bin/sh"
    assert d.init_env == ("POSTGRES_PASSWORD",)  # names only, and only first-run settings
    a = translate.detail(raw("container-anon"), diff=raw("diff-anon"))
    assert a.image_volumes == ("/app/data",) and a.changes == ("/app", "/app/data")


def test_images_and_sizes():
    img = raw("image-vol")
    imgs = translate.images(raw("images"), {img["Id"]: img})
    by_tag = {t: i for i in imgs for t in i.tags}
    assert by_tag["vdt-busybox-vol:latest"].volumes == ("/app/data",)
    assert by_tag["vdt-busybox:latest"].volumes == ()
    sizes = translate.volume_sizes(raw("df"))
    assert set(sizes) == {v["Name"] for v in raw("volumes")["Volumes"]} and all(isinstance(n, int) for n in sizes.values())


def test_detail_reads_read_only_root_tmpfs_and_terminal():
    ro = translate.detail(raw("container-readonly"))
    assert ro.read_only and ro.tmpfs == ("/run",) and not ro.tty and not ro.foreground
    shell = translate.detail(raw("container-shell"))
    assert shell.tty and shell.interactive and shell.foreground and not shell.read_only and shell.tmpfs == ()
    assert translate.detail(raw("container-web")).read_only is False


def _rerun(name: str) -> list[str]:
    from voldoctor.facts.common import run_argv
    data = raw(name)
    c = translate.container({"Id": data["Id"], "Names": [data["Name"]], "Image": data["Config"]["Image"],
                             "State": data["State"]["Status"], "Mounts": data["Mounts"]}, set())
    return run_argv(c.model_copy(update={"detail": translate.detail(data)}))


def test_a_container_is_started_again_with_its_read_only_root_tmpfs_and_terminal():
    ro = _rerun("container-readonly")
    assert ro[:3] == ["docker", "run", "-d"] and "--read-only" in ro and ro[ro.index("--tmpfs") + 1] == "/run"
    # an interactive shell comes back as one (attached, with a terminal), not detached where sh exits at once
    shell = _rerun("container-shell")
    assert shell[:3] == ["docker", "run", "-it"] and "-d" not in shell and shell[-1] == "sh"
    assert _rerun("container-shell-detached")[:4] == ["docker", "run", "-d", "-it"]
    assert "--read-only" not in shell and "--tmpfs" not in shell


def test_a_container_is_started_again_with_its_restart_policy_and_working_directory():
    line = _rerun("container-restart")
    assert line[line.index("--restart") + 1] == "unless-stopped" and line[line.index("-w") + 1] == "/data"
    assert "GREETING" in line and not any("hello" in w for w in line)  # a setting's name, never its value
    assert "--restart" not in _rerun("container-readonly")


def test_a_hostname_given_with_hostname_is_kept_and_the_default_one_is_not():
    line = _rerun("container-hostname")
    assert line[line.index("--hostname") + 1] == "box"
    assert "--hostname" not in _rerun("container-restart")  # docker's default hostname is the short id
