"""Broken (and healthy) lab states, built for real on a daemon.

Each scenario builds its state with the Docker API, says what a learner asks,
and which rules must (and must not) answer. The live tests build them on the
private daemon; with VOLDOCTOR_CAPTURE=1 they also save the state to
tests/data/snapshots/, which the unit tests replay without a daemon.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from support import wait_until


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable  # (lab) -> None
    argv: tuple[str, ...]  # arguments after `voldoctor diagnose`
    first: str | None  # the rule that must come first; None: no problem at all
    absent: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)  # facts the first diagnosis must show
    # Run the first diagnosis's complete fix lines for real, then the cause must
    # be gone and, when given, goal(lab) must hold (the learner's aim).
    verify: bool = False
    goal: Optional[Callable] = None
    # A pasted command's fix is to run it corrected. `then`: the corrected command, run for real after
    # the fix lines; `uses`: the text of the fix it is made from (it must appear in a fix line and in
    # `then`). `after`: the question asked again (default: `then` when given, else argv); AS_MEANT asks
    # with the complete command the fix itself prints (and ran).
    then: Optional[str] = None
    uses: Optional[str] = None
    after: Optional[tuple] = None
    # An answer that is information, not a fault: its fix lines (commands to look) must run and exit 0,
    # and the same question asked again must give the same information.
    info: bool = False
    # Why the fix cannot be verified here: its runnable lines are still run and must succeed (counted as
    # run, not verified), and the reason is printed at the end of the run.
    unverified: Optional[str] = None


AS_MEANT = ("<the command the fix prints>",)
_GOALS = itertools.count()  # goal containers get names of their own


def file_at(container: str, path: str, name: str = "notes.txt") -> Callable:
    """The file written before is readable from a new container at the lab path."""
    def goal(lab) -> bool:
        c = lab.api.inspect_container(container)
        m = next(m for m in c["Mounts"] if m["Destination"] == path)
        src = m["Name"] if m["Type"] == "volume" else m["Source"]
        return lab.run(f"{lab.tag}-goal-{next(_GOALS)}", command=("cat", f"{path}/{name}"),
                       binds=[f"{src}:{path}:ro"]) == 0
    return goal


def volume_at(container: str, path: str, name: Optional[str] = None) -> Callable:
    """A named volume (this one, when given) is now mounted at the path."""
    def goal(lab) -> bool:
        ms = lab.api.inspect_container(container)["Mounts"]
        return any(m["Destination"] == path and m["Type"] == "volume" and (name is None or m["Name"] == name)
                   for m in ms)
    return goal


def started_with(volume: str, path: str) -> Callable:
    """A container has been started with this volume at the path."""
    def goal(lab) -> bool:
        return any(m.get("Name") == volume and m["Destination"] == path
                   for c in lab.api.containers(all=True) for m in lab.api.inspect_container(c["Id"])["Mounts"])
    return goal


def readable(volume: str, name: str) -> Callable:
    """The file is readable from a new container that mounts the volume."""
    def goal(lab) -> bool:
        return lab.run(f"{lab.tag}-goal", command=("cat", f"/v/{name}"), binds=[f"{volume}:/v:ro"]) == 0
    return goal


def volume_exists(name: str) -> Callable:
    def goal(lab) -> bool:
        return any(v["Name"] == name for v in (lab.api.volumes() or {}).get("Volumes") or [])
    return goal


def host_file(name: str) -> Callable:
    """The fix left this file in the folder it was run from (a copy kept on the host)."""
    def goal(lab) -> bool:
        return (lab.tmp / name).is_file()
    return goal


def both(*goals: Callable) -> Callable:
    def goal(lab) -> bool:
        return all(g(lab) for g in goals)
    return goal


def _once(lab, volume: str, at: str, *command: str) -> None:
    """A throwaway container runs the command once with the volume at `at`, and is removed."""
    lab.run("vdt-first", command=command, binds=[f"{volume}:{at}"])
    lab.api.remove_container(lab.containers.pop())


def _filled(lab, volume: str, **kw) -> None:
    """A new volume holding notes.txt, written by a container that is gone."""
    lab.volume(volume, **kw)
    _once(lab, volume, "/app/data", "sh", "-c", "echo hi > /app/data/notes.txt")


def _writing(lab, name: str, files: tuple[str, ...], **kw) -> None:
    """A running container that has written these files outside its mounts."""
    script = " && ".join(f"mkdir -p {posixpath.dirname(f)} && echo hi > {f}" for f in files) + " && sleep 600"
    cid = lab.container(name, command=("sh", "-c", script), **kw)
    wait_until(lambda: {ch["Path"] for ch in lab.api.diff(cid) or []} >= set(files), what=f"{name} to write {files}")


def can_write(container: str, path: str) -> Callable:
    """The container's own user can now write at the path."""
    def goal(lab) -> bool:
        ex = lab.api.exec_create(container, ["touch", f"{path}/.goal-{container}"])
        lab.api.exec_start(ex["Id"])
        return lab.api.exec_inspect(ex["Id"])["ExitCode"] == 0
    return goal


def _typo(lab):
    lab.volume("my-data")


def _missing(lab):
    lab.volume("vdt-other")


def _uid(lab):
    lab.volume("vdt-rootvol")
    lab.container("vdt-writer", user="1000", binds=["vdt-rootvol:/data"])


def _uid_stopped(lab):
    lab.volume("vdt-rootvol4")
    lab.container("vdt-sleeper", user="1000", binds=["vdt-rootvol4:/data"], start=False)


def _uid_named(lab):
    lab.volume("vdt-rootvol2")
    lab.container("vdt-appuser", image="vdt-busybox-user:latest", binds=["vdt-rootvol2:/srv/data"])


def _uid_entry(lab):
    lab.volume("vdt-rootvol3")
    lab.container("vdt-entrywriter", image="vdt-busybox-entry:latest", command=("600",), user="1000",
                  binds=["vdt-rootvol3:/data"])


def _readonly_entry(lab):
    lab.volume("vdt-rovol2")
    lab.container("vdt-entryreader", image="vdt-busybox-entry:latest", command=("600",), binds=["vdt-rovol2:/data:ro"])


def _readonly_stopped(lab):
    lab.volume("vdt-rovol3")
    lab.container("vdt-userreader", image="vdt-busybox-user:latest", binds=["vdt-rovol3:/data:ro"], start=False)


def _near_after(lab):
    _filled(lab, "my-data")
    lab.volume("my_data")
    lab.container("vdt-web2", binds=["my_data:/app/data"])


def _near_after_entry(lab):
    lab.volume("app-data")
    lab.run("vdt-first", command=("sh", "-c", "echo hi > /app/data/notes.txt"), binds=["app-data:/app/data"])
    lab.volume("app_data")
    lab.container("vdt-web3", image="vdt-busybox-entry:latest", command=("600",), binds=["app_data:/app/data"],
                  start=False)


def _anon_recreated(image: str, command: tuple, user: Optional[str] = None) -> Callable:
    def build(lab):
        name = "vdt-anon2"
        lab.run(name, image=image, command=("-c", "echo hi > /app/data/notes.txt"), volumes=["/app/data"],
                user="0", entrypoint=["sh"])
        old = lab.api.inspect_container(lab.containers[-1])["Mounts"][0]["Name"]
        lab.api.remove_container(lab.containers.pop())  # without -v: the anonymous volume stays
        lab.volumes.append(old)
        lab.container(name, image=image, command=command, volumes=["/app/data"], user=user)
    return build


def _anon_recreated_rm(lab):
    # the old run's data waits in a volume left behind; the new run, started with --rm, has new data of its own
    _anon_recreated("vdt-busybox:latest", ("sleep", "600"))(lab)
    lab.api.remove_container(lab.containers.pop(), force=True)
    cid = lab.container("vdt-anon2", command=("sleep", "600"), volumes=["/app/data"], auto_remove=True)
    ex = lab.api.exec_create(cid, ["sh", "-c", "echo new > /app/data/day2.csv"])
    lab.api.exec_start(ex["Id"])
    lab.volumes.append(lab.api.inspect_container(cid)["Mounts"][0]["Name"])


def _uid_shared(lab):
    # api (uid 2000) owns and writes the volume; thumbs (uid 1000) shares it and cannot write
    lab.volume("vdt-uploads")
    _once(lab, "vdt-uploads", "/u", "chown", "2000", "/u")
    lab.container("vdt-api", user="2000", binds=["vdt-uploads:/u"])
    lab.container("vdt-thumbs", user="1000", binds=["vdt-uploads:/u"])


def _rm_anon(image: str, command: tuple, user: Optional[str] = None) -> Callable:
    def build(lab):
        cid = lab.container("vdt-rmanon", image=image, command=command, volumes=["/app/data"], user=user,
                            auto_remove=True)
        ex = lab.api.exec_create(cid, ["sh", "-c", "echo hi > /app/data/notes.txt"], user="0")
        lab.api.exec_start(ex["Id"])
        assert lab.api.exec_inspect(ex["Id"])["ExitCode"] == 0
        lab.volumes.append(lab.api.inspect_container(cid)["Mounts"][0]["Name"])
    return build


def _readonly(lab):
    lab.volume("vdt-rovol")
    lab.container("vdt-reader", binds=["vdt-rovol:/data:ro"])


def _readonly_auto_remove(lab):
    lab.volume("vdt-rovol3")
    lab.container("vdt-rmreader", binds=["vdt-rovol3:/data:ro"], auto_remove=True)


def _readonly_root(lab):
    lab.volume("vdt-rootvol")
    lab.container("vdt-rootro", binds=["vdt-rootvol:/data"], read_only=True, tmpfs={"/run": ""})


def _path(lab):
    lab.volume("my-data")
    lab.container("vdt-web", binds=["my-data:/app/date"])


def _path_written(lab):
    """The app wrote its file at /app/data, outside the volume at /app/date: the file must survive the fix."""
    _path(lab)
    ex = lab.api.exec_create("vdt-web", ["sh", "-c", "mkdir -p /app/data && echo kept > /app/data/notes.txt"])
    lab.api.exec_start(ex["Id"])


def _path_written_beside_healthy(lab):
    """Another app's healthy volume is on /app/data; the container that lost its file is not."""
    lab.volume("vdt-userdata")
    lab.container("vdt-userapp", binds=["vdt-userdata:/app/data"])
    _path_written(lab)


def _path_stopped(lab):
    lab.volume("my-data")
    lab.container("vdt-web", image="vdt-busybox-entry:latest", command=("600",), binds=["my-data:/app/date"],
                  start=False)


def _novolume_written(lab):
    _writing(lab, "vdt-bare2", ("/app/data/notes.txt", "/app/work/draft.txt"))


def _readonly_written(lab):
    lab.volume("vdt-rovol5")
    _writing(lab, "vdt-reader2", ("/app/work/draft.txt",), binds=["vdt-rovol5:/data:ro"])


def _near_after_written(lab):
    _filled(lab, "vdt-site-data")
    lab.volume("vdt-site_data")
    _writing(lab, "vdt-web5", ("/app/uploads/pic.txt",), binds=["vdt-site_data:/app/data"])


def _near_after_typo_first(lab):
    # the volume meant was made first (empty); a run with a slip wrote the files into a new one
    lab.volume("vdt-notes-data")
    time.sleep(1.1)  # creation times are kept to the second
    lab.run("vdt-first", command=("sh", "-c", "echo hi > /app/data/notes.txt"), binds=["vdt-notes-dta:/app/data"])
    lab.volumes.append("vdt-notes-dta")
    lab.api.remove_container(lab.containers.pop())
    lab.container("vdt-web6", binds=["vdt-notes-data:/app/data"])


def _file_made_folder(lab):
    lab.container("vdt-conf", binds=[f"{lab.tmp}/app.conf:/etc/app.conf"])


def _path_beside_used(lab):
    # the app keeps its settings in a volume at /etc/api and writes uploads to /srv/files, which no mount covers
    lab.volume("vdt-apicfg")
    _once(lab, "vdt-apicfg", "/etc/api", "sh", "-c", "echo port=1 > /etc/api/api.conf")
    _writing(lab, "vdt-api", ("/srv/files/x.txt",), binds=["vdt-apicfg:/etc/api"])


def _again_without(lab):
    # the learner's notes are in vdt-notes-keep; the container was made again without -v
    _filled(lab, "vdt-notes-keep")
    lab.container("vdt-again")


def _compose_twin(lab):
    # Compose made vdt-shop_dbdata (with the data); a plain docker run -v dbdata made an empty twin
    _filled(lab, "vdt-shop_dbdata", labels={"com.docker.compose.project": "vdt-shop", "com.docker.compose.volume": "dbdata"})
    lab.volume("dbdata")
    lab.container("vdt-shopdb", binds=["dbdata:/var/lib/shop"])


def _path_slip_unnamed(lab):
    # '-v vdt-notesvol2:/app/dta' while the app writes /app/data: the question names no path
    lab.volume("vdt-notesvol2")
    _writing(lab, "vdt-notes", ("/app/data/notes.txt",), binds=["vdt-notesvol2:/app/dta"])


def _path_slip(lab):
    # a non-root app writes /srv/blog; its volume went to /srv/blgo, so it cannot even make its folder
    lab.volume("vdt-blogvol")
    cid = lab.container("vdt-blog", user="1000", binds=["vdt-blogvol:/srv/blgo"],
                        command=("sh", "-c", "mkdir -p /srv/blog && echo hi > /srv/blog/post1.md && sleep 600"))
    wait_until(lambda: lab.api.inspect_container(cid)["State"]["Status"] == "exited", what="vdt-blog to fail")


def _path_slip_shared(lab):
    # imgsvc (uid 1001) owns and writes the volume at /srv/media; thumbs (uid 1000) got it at /srv/medai
    lab.volume("vdt-media")
    _once(lab, "vdt-media", "/m", "chown", "1001", "/m")
    lab.container("vdt-imgsvc", user="1001", binds=["vdt-media:/srv/media"])
    cid = lab.container("vdt-thumbs", user="1000", binds=["vdt-media:/srv/medai"],
                        command=("sh", "-c", "mkdir -p /srv/media && echo hi > /srv/media/t.txt && sleep 600"))
    wait_until(lambda: lab.api.inspect_container(cid)["State"]["Status"] == "exited", what="vdt-thumbs to fail")


def _entry_shell(lab):
    lab.volume("my-data")
    lab.container("vdt-seed", image="vdt-busybox-entry:latest", command=("sh", "-c", "echo hello > /app/data/f.txt"),
                  binds=["my-data:/app/data"])


def _layer_two_folders(lab):
    # the app keeps notes in its volume and logs in /logs, which no mount covers
    lab.volume("vdt-notesvol")
    _writing(lab, "vdt-logger", ("/logs/app.log", "/logs/err.log"), binds=["vdt-notesvol:/data"])
    ex = lab.api.exec_create("vdt-logger", ["sh", "-c", "mkdir -p /srv/cache && echo hi > /srv/cache/c.txt"])
    lab.api.exec_start(ex["Id"])  # once, by hand: a new container does not write it again


def _empty_near_filled(lab):
    # the meant volume was made first and stays empty; a run with a slipped name wrote the files
    lab.volume("vdt-photos")
    lab.run("vdt-first", command=("sh", "-c", "echo hi > /app/data/notes.txt"), binds=["vdt-photso:/app/data"])
    lab.volumes.append("vdt-photso")
    lab.api.remove_container(lab.containers.pop())


def _novolume(lab):
    lab.container("vdt-bare")


def _novolume_removed_before(lab):
    # an earlier container of the same name was removed; the new one, stopped, still has no volume
    lab.run("vdt-bare", command=("sh", "-c", "mkdir -p /app/data && echo hi > /app/data/notes.txt"))
    lab.api.remove_container(lab.containers.pop())
    lab.container("vdt-bare", image="vdt-busybox-user:latest", start=False)


def _anonymous(lab):
    cid = lab.container("vdt-anon", image="vdt-busybox-vol:latest")
    ex = lab.api.exec_create(cid, ["sh", "-c", "echo hi > /app/data/notes.txt"])
    lab.api.exec_start(ex["Id"])
    (lab.tmp / "vdt-anon-rescued").mkdir()  # left from an earlier try: the copy must not nest inside it
    (lab.tmp / "vdt-anon-rescued" / "old.txt").write_text("old\n")


def _inuse(lab):
    lab.volume("vdt-held")
    lab.container("vdt-holder", binds=["vdt-held:/data"], start=False)


def _invalid(lab):
    pass


def _run_typo(lab):
    lab.volume("my-data")


def _bind_person(lab):
    # the learner's own project folder (uid 1234), mounted into a container that runs as uid 1000
    d = lab.tmp / "proj"
    d.mkdir()
    (d / "notes.txt").write_text("mine\n")
    for p in (d, d / "notes.txt"):
        os.chown(p, 1234, 1234)
    d.chmod(0o755)
    lab.container("vdt-dev", user="1000", binds=[f"{d}:/work"])


def owned_by(folder: str, uid: int) -> Callable:
    """The host folder and the files in it still belong to their owner."""
    def goal(lab) -> bool:
        d = lab.tmp / folder
        return all(p.stat().st_uid == uid for p in (d, *d.iterdir()) if p.name != ".keep")
    return goal


def _file_slip(lab):
    # the learner's file is app.conf; the run line said app.cnf, which the daemon made as an empty folder
    (lab.tmp / "app.conf").write_text("listen 80\n")
    lab.container("vdt-cnf", binds=[f"{lab.tmp}/app.cnf:/etc/app.conf"])


def reads(container: str, path: str, text: str) -> Callable:
    """The container reads the text in the file at the path."""
    def goal(lab) -> bool:
        ex = lab.api.exec_create(container, ["cat", path])
        return lab.api.exec_start(ex["Id"]) == text.encode()
    return goal


def _bind_root(lab):
    lab.container("vdt-binder", user="1000", binds=[f"{lab.tmp}/made-by-docker:/srv/data"])


def _bind_root_entry(lab):
    lab.container("vdt-binder", image="vdt-busybox-entry:latest", command=("600",), user="1000",
                  binds=[f"{lab.tmp}/made-by-docker2:/srv/data"])


def _hides(lab):
    empty = lab.tmp / "empty-site"
    empty.mkdir()
    lab.container("vdt-site", image="vdt-busybox-app:latest", binds=[f"{empty}:/app"])


def _orphan(lab):
    lab.volume("vdt-orphan")
    assert lab.run("vdt-filler", command=("sh", "-c", "head -c 20000 /dev/zero > /v/keep.bin"),
                   binds=["vdt-orphan:/v"]) == 0
    lab.api.remove_container(lab.containers.pop())  # the volume now belongs to no container


def _compose(lab):
    lab.volume("lab_db-data", labels={"com.docker.compose.project": "lab", "com.docker.compose.volume": "db-data"})


def _initialized(lab):
    # The first run's database file is dated in the past (as after a real
    # first run days ago), so it predates the new container without waiting.
    lab.volume("vdt-pgdata")
    assert lab.run("vdt-pg-first", command=("sh", "-c", "echo 16 > /var/lib/postgresql/data/PG_VERSION && touch "
                                            "-d '2024-01-01 00:00:00' /var/lib/postgresql/data/PG_VERSION"),
                   binds=["vdt-pgdata:/var/lib/postgresql/data"]) == 0
    lab.container("vdt-db", binds=["vdt-pgdata:/var/lib/postgresql/data"],
                  environment={"POSTGRES_PASSWORD": "new-secret"})


def _layer(lab):
    lab.volume("vdt-logs")
    cid = lab.container("vdt-notes", command=("sh", "-c", "mkdir -p /app/data && echo hi > /app/data/notes.txt "
                                              "&& sleep 600"), binds=["vdt-logs:/var/log/app"])
    wait_until(lambda: any(ch["Path"] == "/app/data/notes.txt" for ch in lab.api.diff(cid) or []),
               what="the container to write /app/data/notes.txt")


def _named(lab):
    lab.container("vdt-web", start=False)


def _healthy(lab):
    lab.volume("my-data")
    lab.container("vdt-lab", binds=["my-data:/app/data"])


SCENARIOS = [
    # After the fact, fixed by running the printed lines: images with an ENTRYPOINT, a USER; running,
    # stopped and removed containers; named and anonymous volumes.
    Scenario("uid-mismatch-entrypoint", _uid_entry, ("touch: /data/f: Permission denied",), "uid-mismatch", (),
             {"container.uid": 1000}, verify=True, goal=can_write("vdt-entrywriter", "/data")),
    Scenario("read-only-entrypoint", _readonly_entry, ("touch: /data/x: Read-only file system", "--container",
                                                       "vdt-entryreader"), "mounted-read-only", (), {"mount.rw": False},
             verify=True, goal=can_write("vdt-entryreader", "/data")),
    Scenario("read-only-stopped-user", _readonly_stopped, ("read-only file system", "--container", "vdt-userreader"),
             "mounted-read-only", (), {"mount.rw": False}, verify=True),
    Scenario("near-miss-after", _near_after, ("my data is gone", "--container", "vdt-web2"), "mounted-near-miss", (),
             {"mount.name": "my_data", "mount.near_miss": "my-data"}, verify=True,
             goal=file_at("vdt-web2", "/app/data")),
    # The same told with the run line that made it: the name it gave is its own, not a conflict.
    Scenario("near-miss-after-ran", _near_after,
             ("i ran docker run -d --name vdt-web2 -v my_data:/app/data vdt-busybox:latest and my data is gone",),
             "mounted-near-miss", ("name-conflict",), {"mount.near_miss": "my-data"}, verify=True,
             goal=file_at("vdt-web2", "/app/data")),
    Scenario("near-miss-after-entrypoint-stopped", _near_after_entry, ("my data is gone", "--container", "vdt-web3"),
             "mounted-near-miss", (), {"mount.near_miss": "app-data"}, verify=True,
             goal=file_at("vdt-web3", "/app/data")),
    Scenario("anonymous-recreated", _anon_recreated("vdt-busybox:latest", ("sleep", "600")),
             ("lost my data when I removed the container", "--container", "vdt-anon2"), "anonymous-volume-left-behind",
             ("anonymous-volume",), {"path.covered_by": "anonymous"}, verify=True,
             goal=file_at("vdt-anon2", "/app/data")),
    # Started again with --rm: stopping it deletes its own unnamed volume, so the fix keeps a copy of it first.
    Scenario("anonymous-recreated-rm", _anon_recreated_rm, ("my notes are gone after i recreated the container",
                                                            "--container", "vdt-anon2"),
             "anonymous-volume-left-behind", (), {}, verify=True,
             goal=both(readable("vdt-anon2-data", "notes.txt"), host_file("vdt-anon2-saved-app-data/day2.csv"))),
    Scenario("anonymous-recreated-entrypoint", _anon_recreated("vdt-busybox-entry:latest", ("600",)),
             ("lost my data when I removed the container", "--container", "vdt-anon2"), "anonymous-volume-left-behind",
             (), {}, verify=True, goal=file_at("vdt-anon2", "/app/data")),
    Scenario("anonymous-recreated-user", _anon_recreated("vdt-busybox-vol:latest", ("sleep", "600"), user="1000"),
             ("lost my data when I removed the container", "--container", "vdt-anon2"), "anonymous-volume-left-behind",
             (), {}, verify=True, goal=file_at("vdt-anon2", "/app/data")),
    Scenario("rm-running-anonymous", _rm_anon("vdt-busybox:latest", ("sleep", "600")),
             ("lost my data when I removed the container", "--container", "vdt-rmanon"),
             "auto-remove-anonymous-volume", ("anonymous-volume",), {"mount.anonymous": True}, verify=True,
             goal=file_at("vdt-rmanon", "/app/data")),
    Scenario("rm-running-anonymous-user", _rm_anon("vdt-busybox-vol:latest", ("sleep", "600"), user="1000"),
             ("lost my data when I removed the container", "--container", "vdt-rmanon"),
             "auto-remove-anonymous-volume", ("anonymous-volume",), {}, verify=True,
             goal=file_at("vdt-rmanon", "/app/data")),
    Scenario("volume-typo", _typo, ("volume not found", "--volume", "my_data"), "volume-name-typo",
             evidence={"volume.name": "my_data", "volume.near_miss": "my-data"}, verify=True),
    Scenario("volume-missing", _missing, ("Error response from daemon: get pgdata: no such volume",),
             "volume-missing", ("volume-name-typo",), {"volume.name": "pgdata"}, verify=True),
    Scenario("uid-mismatch", _uid, ("touch: /data/f: Permission denied",), "uid-mismatch",
             ("mounted-read-only",), {"container.uid": 1000, "mount.owner_uid": 0, "mount.mode": "755"},
             verify=True, goal=can_write("vdt-writer", "/data")),
    # Shared with an app of another user: both can write afterwards (a chown would lock the other one out).
    Scenario("uid-mismatch-shared", _uid_shared, ("touch: /u/thumb.png: Permission denied", "--container",
                                                  "vdt-thumbs"), "uid-mismatch", (), {"mount.shared_with": "vdt-api"},
             verify=True, goal=both(can_write("vdt-thumbs", "/u"), can_write("vdt-api", "/u"))),
    Scenario("uid-mismatch-stopped", _uid_stopped, ("touch: /data/f: Permission denied", "--container", "vdt-sleeper"),
             "uid-mismatch", (), {"container.uid": 1000}, verify=True, goal=can_write("vdt-sleeper", "/data")),
    Scenario("uid-mismatch-named-user", _uid_named, ("permision denied writing /srv/data/x",), "uid-mismatch",
             (), {"container.uid": 1000, "container.user": "app"}, verify=True,
             goal=can_write("vdt-appuser", "/srv/data")),
    Scenario("read-only", _readonly, ("touch: /data/x: Read-only file system",), "mounted-read-only",
             ("uid-mismatch",), {"mount.rw": False}, verify=True, goal=can_write("vdt-reader", "/data")),
    # started with --rm: stopping it removes it, so the printed line must not 'docker rm' it again
    Scenario("read-only-auto-remove", _readonly_auto_remove, ("touch: /data/x: Read-only file system",),
             "mounted-read-only", (), {"mount.rw": False}, verify=True, goal=can_write("vdt-rmreader", "/data")),
    Scenario("read-only-root", _readonly_root, ("touch: /app/x: Read-only file system",), "read-only-root-write",
             ("mounted-read-only",), {"path.on_read_only_root": True, "path.write_dir": "/app",
                                      "container.writable": "/data, /run"}, verify=True,
             goal=can_write("vdt-rootro", "/app")),
    Scenario("read-only-root-vague", _readonly_root, ("read only file system", "--container", "vdt-rootro"),
             "read-only-root", ("mounted-read-only",), {"container.read_only_root": True}),
    Scenario("path-mismatch", _path, ("data in /app/data is gone after docker rm",), "mount-path-mismatch",
             (), {"path.wanted": "/app/data", "path.nearest_destination": "/app/date"}, verify=True,
             goal=volume_at("vdt-web", "/app/data", "my-data")),
    Scenario("path-mismatch-written", _path_written, ("my notes in /app/data/notes.txt are gone after docker rm",),
             "mount-path-mismatch", (), {"path.wanted": "/app/data", "path.written": 1}, verify=True,
             goal=file_at("vdt-web", "/app/data")),
    Scenario("path-mismatch-beside-healthy", _path_written_beside_healthy,
             ("my notes in /app/data/notes.txt are gone after docker rm",), "mount-path-mismatch", (),
             {"container.name": "vdt-web", "path.wanted": "/app/data"}, verify=True,
             goal=file_at("vdt-web", "/app/data")),
    Scenario("path-mismatch-stopped-entrypoint", _path_stopped, ("data in /app/data is gone after docker rm",),
             "mount-path-mismatch", (), {"path.nearest_destination": "/app/date"}, verify=True,
             goal=volume_at("vdt-web", "/app/data", "my-data")),
    Scenario("no-volume", _novolume, ("my data in /app/data is gone after i removed the container", "--container",
                                      "vdt-bare"), "container-without-volume", (), {"container.mount_count": 0},
             verify=True, goal=volume_at("vdt-bare", "/app/data")),
    # Fixes that recreate a container first keep a copy of what it wrote outside its mounts (run as printed:
    # the copies are on the host afterwards, and the data folder's files are in the new volume).
    Scenario("no-volume-written", _novolume_written, ("my data in /app/data will be gone if i remove the container",
                                                      "--container", "vdt-bare2"), "container-without-volume", (),
             {"path.written": 1}, verify=True,
             goal=both(file_at("vdt-bare2", "/app/data"), host_file("vdt-bare2-saved-app-work-draft.txt"))),
    Scenario("read-only-written", _readonly_written, ("touch: /data/x: Read-only file system",), "mounted-read-only",
             (), {"mount.rw": False}, verify=True,
             goal=both(can_write("vdt-reader2", "/data"), host_file("vdt-reader2-saved-app-work-draft.txt"))),
    Scenario("near-miss-after-written", _near_after_written, ("my data is gone", "--container", "vdt-web5"),
             "mounted-near-miss", (), {"mount.near_miss": "vdt-site-data"}, verify=True,
             goal=both(file_at("vdt-web5", "/app/data"), host_file("vdt-web5-saved-app-uploads-pic.txt"))),
    # The volume the container uses was there first: the files are copied into it, the container stays.
    Scenario("near-miss-meant-first", _near_after_typo_first, ("my notes are gone", "--container", "vdt-web6"),
             "mounted-near-miss", (), {"mount.near_miss": "vdt-notes-dta", "mount.near_miss_newer": True},
             verify=True, goal=file_at("vdt-web6", "/app/data")),
    Scenario("bind-file-made-folder", _file_made_folder, ("my app.conf is a directory inside the container",
                                                          "--container", "vdt-conf"), "bind-file-made-folder",
             ("bind-created-as-root",), {"mount.file_like": True, "mount.daemon_created": True}, verify=True,
             unverified="its host line (rmdir, cp YOUR_FILE) needs the learner's file, and as printed it and the restart "
                        "line do nothing, so none runs here; "
                        "test_a_folder_docker_made_for_a_file_is_replaced_by_the_file runs every line"),
    # An image with an ENTRYPOINT: 'sh -c ...' after the image would be sleep's arguments.
    Scenario("command-entrypoint-shell", _run_typo,
             ("docker run -v my-data:/app/data vdt-busybox-entry:latest sh -c 'echo hello > /app/data/f.txt'",),
             "command-entrypoint-shell", (), {"cmd.entrypoint": "sleep"}, verify=True, after=AS_MEANT,
             goal=readable("my-data", "f.txt")),
    # The mount the app already uses stays where it is; the data path gets a volume of its own.
    Scenario("path-mismatch-beside-used", _path_beside_used, ("my files in /srv/files are gone after i recreate it",
                                                              "--container", "vdt-api"), "mount-path-mismatch", (),
             {"path.nearest_unused": False}, verify=True,
             goal=both(file_at("vdt-api", "/srv/files", "x.txt"), file_at("vdt-api", "/etc/api", "api.conf"))),
    # The error names a path one slip from the mount: moved there and made the app user's, the app writes.
    Scenario("path-slip-denied", _path_slip, ("mkdir: can't create directory '/srv/blog': Permission denied",
                                              "--container", "vdt-blog"), "mount-path-slip", ("uid-mismatch",),
             {"path.nearest_destination": "/srv/blgo"}, verify=True, goal=file_at("vdt-blog", "/srv/blog", "post1.md")),
    # Made again without its volume: the one volume with files that nothing uses goes back on the data path.
    Scenario("again-without-volume", _again_without, ("data in /app/data is gone after i recreated the container",
                                                      "--container", "vdt-again"), "container-without-volume", (),
             {"path.left_volume": "vdt-notes-keep"}, verify=True, goal=file_at("vdt-again", "/app/data")),
    # The volume Compose made carries the project's prefix: the container's empty twin is found beside it.
    Scenario("compose-twin", _compose_twin, ("my shop data is gone", "--container", "vdt-shopdb"), "mounted-near-miss",
             (), {"mount.near_miss": "vdt-shop_dbdata"}, verify=True, goal=file_at("vdt-shopdb", "/var/lib/shop")),
    # No path named: the folder it wrote to, a slip from its mount, is where the volume goes.
    Scenario("path-slip-unnamed", _path_slip_unnamed, ("my notes are gone after i recreate the container",
                                                       "--container", "vdt-notes"), "mount-path-mismatch",
             ("container-layer-writes",), {"path.wanted": "/app/data"}, verify=True,
             goal=file_at("vdt-notes", "/app/data", "notes.txt")),
    # The same with a volume another app (another user) writes: it is opened to both, not chowned to one.
    Scenario("path-slip-shared", _path_slip_shared, ("mkdir: can't create directory '/srv/media/': Permission denied",
                                                     "--container", "vdt-thumbs"), "mount-path-slip", ("uid-mismatch",),
             {"path.nearest_shared": "vdt-imgsvc"}, verify=True,
             goal=both(file_at("vdt-thumbs", "/srv/media", "t.txt"), can_write("vdt-imgsvc", "/srv/media"))),
    # After the fact: the container exited at once ("sleep: invalid number 'sh'"); the vague error finds it.
    Scenario("container-entrypoint-shell", _entry_shell, ("sleep: invalid number 'sh'",), "container-entrypoint-shell",
             (), {"container.entrypoint": "sleep"}, verify=True, goal=readable("my-data", "f.txt")),
    # Every file it wrote is kept: the folder with the app's files gets a volume, the rest is copied out.
    Scenario("layer-writes-two-folders", _layer_two_folders, ("my logs are not in the volume", "--container",
                                                              "vdt-logger"), "container-layer-writes", (),
             {"container.write_folder": "/logs"}, verify=True,
             goal=both(file_at("vdt-logger", "/logs", "app.log"), file_at("vdt-logger", "/logs", "err.log"),
                       host_file("vdt-logger-saved-srv-cache-c.txt"))),
    # No container uses either volume: the files are copied into the name asked about.
    Scenario("volume-empty-near-miss", _empty_near_filled, ("my photos are gone", "--volume", "vdt-photos"),
             "volume-empty-near-miss", (), {"volume.filled_near": "vdt-photso"}, verify=True,
             goal=readable("vdt-photos", "notes.txt")),
    Scenario("no-volume-removed-before", _novolume_removed_before,
             ("my data in /app/data is gone after i removed the container", "--container", "vdt-bare"),
             "container-without-volume", (), {"container.mount_count": 0}, verify=True,
             goal=volume_at("vdt-bare", "/app/data")),
    Scenario("anonymous", _anonymous, ("lost my data when I removed the container", "--container", "vdt-anon"),
             "anonymous-volume", ("container-without-volume",), {"path.covered_by": "anonymous"}, verify=True,
             goal=file_at("vdt-anon", "/app/data")),
    Scenario("in-use", _inuse, ("docker volume rm vdt-held says volume is in use",), "volume-in-use",
             (), {"volume.used_by": "vdt-holder"}, verify=True),
    Scenario("invalid-name", _invalid,
             ('Error response from daemon: create my data: "my data" includes invalid characters for a local '
              'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
              'directory, use absolute path',), "volume-name-invalid", ("volume-missing",),
             {"volume.name": "my data"}, verify=True, after=("docker volume create my-data",),
             goal=volume_exists("my-data")),
    Scenario("healthy-not-found", _healthy, ("volume not found", "--volume", "my-data"), None),
    Scenario("healthy-permission", _healthy, ("permission denied", "--container", "vdt-lab"), None),
    Scenario("healthy-persist", _healthy, ("data in /app/data is gone", "--container", "vdt-lab"), None),
    # The fix prints the whole command with the volume's right name: run as printed, then asked again with it.
    Scenario("run-volume-typo", _run_typo,
             ("docker run -d -p 8965:80 -v my_data:/app/data vdt-busybox:latest",),
             "run-volume-typo", ("volume-name-typo",), {"spec.source": "my_data", "spec.near_miss": "my-data"},
             verify=True, after=AS_MEANT, goal=started_with("my-data", "/app/data")),
    Scenario("mount-spec-invalid", _run_typo, ("docker run -v my-data:app/data vdt-busybox:latest",),
             "mount-spec-invalid", (), {"spec.corrected": "my-data:/app/data"}, verify=True,
             then="docker run -v my-data:/app/data vdt-busybox:latest", uses="my-data:/app/data"),
    Scenario("bind-source-missing", _invalid, ("docker run -v /nonexistent-vdt/site:/srv vdt-busybox:latest",),
             "bind-source-missing", (), {"spec.source": "/nonexistent-vdt/site"}, verify=True,
             then="docker run -v my-data:/srv vdt-busybox:latest", uses="-v my-data:/srv"),
    # The learner's own folder: the container runs as its owner; nothing is chowned away from the learner.
    Scenario("uid-mismatch-own-folder", _bind_person, ("sh: can't create /work/build.log: Permission denied",
                                                       "--container", "vdt-dev"), "uid-mismatch", (),
             {"mount.person_owned": True, "mount.owner_uid": 1234}, verify=True,
             goal=both(can_write("vdt-dev", "/work"), owned_by("proj", 1234))),
    # A slip in the host file's name: the file next to the folder Docker made is mounted instead.
    Scenario("bind-file-slip", _file_slip, ("my app.conf is a directory inside the container", "--container", "vdt-cnf"),
             "bind-file-made-folder", ("bind-created-as-root",), {"mount.file_like": True}, verify=True,
             goal=reads("vdt-cnf", "/etc/app.conf", "listen 80\n")),
    Scenario("bind-created-as-root", _bind_root, ("permission denied", "--container", "vdt-binder"),
             "bind-created-as-root", ("uid-mismatch",), {"container.uid": 1000, "mount.daemon_created": True},
             verify=True, goal=can_write("vdt-binder", "/srv/data")),
    Scenario("bind-created-as-root-entrypoint", _bind_root_entry, ("permission denied", "--container", "vdt-binder"),
             "bind-created-as-root", ("uid-mismatch",), {"mount.daemon_created": True}, verify=True,
             goal=can_write("vdt-binder", "/srv/data")),
    Scenario("mount-hides-image-content", _hides, ("my app files are gone when I mount a directory", "--container",
                                                   "vdt-site"), "mount-hides-image-content", (),
             {"container.workdir": "/app"}, verify=True, goal=volume_at("vdt-site", "/app", "vdt-site-app")),
    Scenario("rm-anonymous", _invalid, ("docker run --rm -v /app/data vdt-busybox:latest",),
             "rm-deletes-anonymous-volume", (), {"spec.target": "/app/data", "spec.named_volume": "app-data"},
             verify=True, after=AS_MEANT, goal=volume_exists("app-data")),
    Scenario("command-slip-space", _run_typo, ("docker run -d -v my-data /app/data vdt-busybox:latest",),
             "command-slip", ("image-missing", "image-name-typo"), {}, verify=True, after=AS_MEANT),
    Scenario("command-slip-verb", _invalid, ("docker rum -d -p 8965:80 vdt-busybox:latest",), "command-slip",
             ("port-in-use",), verify=True, after=AS_MEANT),
    Scenario("run-read-only-data", _run_typo, ("docker run -d -v my-data:/app/data:ro vdt-busybox:latest",),
             "run-read-only-data", (), {"spec.target": "/app/data"}, verify=True,
             then="docker run -d -v my-data:/app/data vdt-busybox:latest", uses="-v my-data:/app/data"),
    Scenario("mountpoint-here", _run_typo, ("where is my volume stored", "--volume", "my-data"), "mountpoint-here",
             (), {"volume.name": "my-data", "daemon.volumes_where": "host"}, verify=True, info=True),
    Scenario("image-volume-unmounted", _invalid, ("docker run -d vdt-busybox-vol:latest",), "image-volume-unmounted",
             (), {"spec.target": "/app/data"}, verify=True,
             then="docker run -d -v my-data:/app/data vdt-busybox-vol:latest", uses="-v my-data:/app/data"),
    Scenario("dangling", _orphan, ("i removed the container and my data is gone, where is it?",), "dangling-volumes", (),
             {"daemon.dangling_count": 1}, verify=True, info=True, goal=readable("vdt-orphan", "keep.bin")),
    Scenario("compose-prefix", _compose, ("volume not found", "--volume", "db-data"), "compose-project-prefix",
             ("volume-missing",), {"volume.compose_match": "lab_db-data"}, verify=True,
             then="docker run -v lab_db-data:/app/data vdt-busybox:latest", uses="docker run -v lab_db-data:/app/data"),
    Scenario("already-initialized", _initialized, ("changed the postgres password but it is not accepted",
                                                   "--container", "vdt-db"), "volume-already-initialized", (),
             {"container.init_env": "POSTGRES_PASSWORD"}, verify=True, goal=host_file("vdt-pgdata.tgz"),
             unverified="keeping a copy runs; starting fresh needs a new volume name the learner chooses, and "
                        "only a real postgres reads the password (the lab image is busybox)"),
    Scenario("layer-writes", _layer, ("my notes are gone after docker rm", "--container", "vdt-notes"),
             "container-layer-writes", (), {"container.layer_writes": "/app/data/notes.txt"}, verify=True,
             goal=both(volume_at("vdt-notes", "/app/data", "vdt-notes-data"), file_at("vdt-notes", "/app/data"),
                       host_file("vdt-notes-data/notes.txt"))),
    Scenario("name-conflict", _named, ('docker: Error response from daemon: Conflict. The container name "/vdt-web" is '
                                       'already in use by container "0123456789ab". You have to remove (or rename) '
                                       'that container to be able to reuse that name.',), "name-conflict", (),
             {"name.wanted": "vdt-web"}, verify=True),
    Scenario("name-conflict-command", _named, ("docker run --name vdt-web vdt-busybox:latest",), "name-conflict",
             verify=True),
    Scenario("image-typo", _invalid, ("docker run -d vdt-busybx:latest",), "image-name-typo", ("image-missing",),
             {"image.near": "vdt-busybox:latest"}, verify=True, then="docker run -d vdt-busybox:latest",
             uses="vdt-busybox:latest"),
    Scenario("image-missing", _invalid, ("Unable to find image 'vdt-nowhere/thing:1.0' locally",), "image-missing",
             (), {"image.wanted": "vdt-nowhere/thing:1.0"}, verify=True,
             unverified="the fix pulls vdt-nowhere/thing:1.0 and no registry is reachable here; only 'docker "
                        "images' runs"),
    Scenario("volume-create-invalid", _invalid, ('docker volume create "my data"',), "volume-name-invalid",
             verify=True, after=("docker volume create my-data",), goal=volume_exists("my-data")),
    Scenario("volume-rm-in-use", _inuse, ("docker volume rm vdt-held",), "volume-in-use", verify=True),
    Scenario("healthy-command", _healthy, ("docker run -d -p 18965:80 -v my-data:/app/data vdt-busybox:latest",),
             None),
    # In the healthy lab a container holds my-data, so "in use" is true: the
    # warning that names the holder (and the safe removal order) is right.
    Scenario("healthy-in-use", _healthy, ("volume is in use", "--volume", "my-data"), "volume-in-use",
             (), {"volume.used_by": "vdt-lab"}, verify=True),
]
