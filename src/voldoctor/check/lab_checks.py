"""Checks of what the lab needs: volumes work, where they live, disk, image,
port, leftovers, and the lab itself as a round trip through real containers."""

from __future__ import annotations

import os
import shlex
import shutil
import uuid
from typing import Optional

from voldoctor import hostfs
from voldoctor.check.model import STALE_AFTER, Context, Result, check
from voldoctor.daemon_facts import probe_name, provably_ours
from voldoctor.facts.common import near_misses, volume_about

GIB = 1024 ** 3


@check("scratch-volume", "Create, inspect and remove a volume", "daemon", live=True)
def _scratch(ctx: Context) -> Result:
    pr = ctx.get_prober()
    removed, kept = pr.remove_stale(STALE_AFTER)
    name = probe_name(10)
    pr.create_volume(name)
    info = pr.inspect_volume(name)
    pr.remove_volume(name)
    note = f"; removed {len(removed)} leftover(s) of an earlier interrupted run" if removed else ""
    if kept:
        return Result("warn", f"works (mountpoint {info.get('Mountpoint') or '?'}){note}; left alone: "
                      + "; ".join(kept), _removal_fixes(kept))
    return Result("pass", f"works (mountpoint {info.get('Mountpoint') or '?'}){note}")


def _other_port(port: int) -> int:
    """A port to suggest instead of a busy one: within 1-65535."""
    return port + 1 if port < 65535 else 8080


def _removal_fixes(kept: list[str]) -> list[str]:
    """How to remove, by hand, labelled objects voldoctor would not touch."""
    out = []
    for item in kept:
        kind, rest = item.split(" ", 1)
        name = rest.split(" (", 1)[0]
        verb = {"container": "rm", "volume": "volume rm"}[kind]
        out.append(f"Only if it is yours and you no longer need it: docker {verb} {shlex.quote(name)}   "
                   "(WARNING: deletes it; voldoctor leaves it alone because it cannot prove it made it)")
    return out


@check("volume-location", "Where volumes are kept", "daemon")
def _location(ctx: Context) -> Result:
    st = ctx.state
    root = st.info.root_dir or "/var/lib/docker"
    vols = f"{root}/volumes"
    if st.info.desktop:
        return Result("pass", f"inside Docker Desktop's virtual machine ({vols}), not on this computer's disk; "
                      "look inside with: docker run --rm -v VOLUME:/v busybox ls -la /v")
    if not st.endpoint.url.startswith("unix://"):
        return Result("pass", f"on the daemon's host ({st.endpoint.url}), at {vols} there")
    if st.replay:
        return Result("pass", f"{vols} on the learner's machine" + (" (rootless)" if st.info.rootless else ""))
    if os.path.isdir(root):
        return Result("pass", f"on this host: {vols}" + (" (rootless Docker: under your home)" if st.info.rootless else ""))
    return Result("pass", f"{vols} on the daemon's side; that folder is not visible from here (another VM, "
                  "container or machine)")


@check("disk-space", "Free space where volumes are kept", "volume-location")
def _disk(ctx: Context) -> Result:
    st = ctx.state
    root = st.info.root_dir
    if st.replay or not root or not os.path.isdir(root) or st.info.desktop:
        return Result("skip", "the daemon's disk is not visible from here")
    u = shutil.disk_usage(root)
    free = u.free / GIB
    msg = f"{free:.1f} GiB free of {u.total / GIB:.0f} GiB at {root}"
    if free < 1:
        return Result("fail", msg, ["See what Docker uses: docker system df",
                                    "Free space: docker image prune   (WARNING: deletes the images no container uses; "
                                    "volumes are not touched)"])
    if free < 5:
        return Result("warn", msg + ": tight for images and volumes", ["docker system df   (see what Docker uses)"])
    return Result("pass", msg)


@check("lab-image", "The lab's image", "daemon")
def _image(ctx: Context) -> Result:
    img = ctx.profile.image
    st = ctx.state
    if st.replay:
        return Result("skip", "replay: images are not part of a snapshot")
    pr = ctx.get_prober()
    if pr.image_present(img):
        return Result("pass", f"{img} is present locally")
    if ctx.pull:
        pr.pull(img)
        return Result("pass", f"{img} pulled")
    return Result("warn", f"{img} is not present locally; the lab's first docker run will pull it (needs internet)",
                  [f"docker pull {shlex.quote(img)}   (or run voldoctor check --pull)"])


@check("lab-port", "The lab's host port is free")
def _port(ctx: Context) -> Result:
    port = ctx.profile.port
    st = ctx.state
    users = []
    if st is not None and st.reachable:
        users = [c.name for c in st.containers for p in c.ports if p.public == port]
    if users:
        return Result("fail", f"port {port} is published by container {', '.join(users)}",
                      [f"docker stop {shlex.quote(users[0])}   (or use another port: docker run -p {_other_port(port)}:80 ...)"])
    if ctx.replay:
        return Result("pass", f"no container in the snapshot publishes {port}")
    if hostfs.listening((port,)):
        return Result("fail", f"something on this machine already listens on port {port}",
                      [f"find it: ss -ltnp 'sport = :{port}'  (or lsof -i :{port})",
                       f"or use another port in the lab: docker run -p {_other_port(port)}:80 ..."])
    if st is None or not st.reachable:
        return Result("skip", f"unknown: nothing on this machine listens on {port}, but whether a container "
                      "publishes it could not be seen (no answer from the daemon)")
    return Result("pass", f"nothing listens on {port} and no container publishes it")


@check("leftovers", "Leftovers of an earlier attempt", "daemon")
def _leftovers(ctx: Context) -> Result:
    st = ctx.state
    img = ctx.profile.image
    repo = img.split(":")[0]
    found = []
    if st.volume(ctx.profile.volume):
        found.append(f"volume {ctx.profile.volume}")
    ours = [c for c in st.containers if provably_ours(c.name, c.labels)]
    conts = [c for c in st.containers if (c.image in (img, repo) or c.image.startswith(repo + ":")) and c not in ours]
    found += [f"container {c.name} ({c.state})" for c in conts]
    own = [f"container {c.name}" for c in ours] + [f"volume {v.name}" for v in st.volumes
                                                  if provably_ours(v.name, v.labels)]
    if own:
        msg = (("found " + ", ".join(found) + "; " if found else "")
               + "voldoctor's own scratch objects from an interrupted run: " + ", ".join(own)
               + " (the scratch-volume check removes them)")
    elif not found:
        msg = "none: a clean start"
    else:
        msg = ("found " + ", ".join(found) + " (fine if you are continuing; "
               f"docker volume inspect {shlex.quote(ctx.profile.volume)} shows when it was made)")
    near = _near_miss_volumes(ctx)
    if near is None:
        return Result("pass", msg)
    return Result("warn", f"{near[0]}; {msg}", near[1])


def _near_miss_volumes(ctx: Context) -> Optional[tuple[str, list[str]]]:
    """A volume whose name is a slip of the lab's (my_data beside my-data):
    what each holds, and how to look inside both."""
    st = ctx.state
    want = ctx.profile.volume
    others = [n for n in near_misses(want, [v.name for v in st.volumes]) if not provably_ours(n, {})]
    if not others:
        return None
    have = st.volume(want) is not None
    about = [f"{want}: {volume_about(st, want, users=True)}" if have else f"the lab's {want} does not exist"]
    about += [f"{n}: {volume_about(st, n, users=True)}" for n in others]
    msg = (f"volume {', '.join(others)} {'is' if len(others) == 1 else 'are'} a near miss of the lab's {want}, "
           "and Docker treats every spelling as its own volume: data written to one is not in the other ("
           + "; ".join(about) + ")")
    names = ([want] if have else []) + others
    mounts = " ".join(f"-v {shlex.quote(n + ':/v' + str(i))}:ro" for i, n in enumerate(names, 1))
    folders = " ".join(f"/v{i}" for i in range(1, len(names) + 1))
    fix = [f"See what each holds: docker run --rm {mounts} busybox ls -la {folders}",
           f"When they were made and where they live: docker volume inspect {' '.join(shlex.quote(n) for n in names)}",
           f"Keep using the lab's name, {want}, in every -v; remove the other only once you are sure it holds "
           "nothing you need"]
    return msg, fix


def _roundtrip_image(ctx: Context) -> tuple[Optional[str], str]:
    if ctx.image:
        return ctx.image, "--image"
    pr = ctx.get_prober()
    if pr.image_present(ctx.profile.image):
        return ctx.profile.image, "the lab image"
    return None, f"no image to run: {ctx.profile.image} is not present (give --image NAME, or --pull)"


def _scratch_volume(ctx: Context):
    """A fresh labelled volume for a round trip: the prober, its name, where to mount it."""
    pr = ctx.get_prober()
    return pr, pr.create_volume(probe_name(10)), "/voldoctor-probe"


@check("roundtrip", "The lab as a self-test: data survives its container", "scratch-volume", live=True, limit=60)
def _roundtrip(ctx: Context) -> Result:
    img, why = _roundtrip_image(ctx)
    if img is None:
        return Result("skip", why)
    pr, vol, path = _scratch_volume(ctx)
    token = uuid.uuid4().hex
    code, out = pr.run(img, f"echo {token} > {path}/proof", binds=[f"{vol}:{path}"])
    if code != 0:
        return Result("fail", f"a container of {img} could not write to a fresh volume (exit {code}: "
                      f"{out.strip()[:120]})", ["voldoctor diagnose \"permission denied\""])
    code, out = pr.run(img, f"cat {path}/proof", binds=[f"{vol}:{path}"])
    pr.remove_volume(vol)
    if code != 0 or token not in out:
        return Result("fail", "the file written by one container was not there for the next one",
                      ["voldoctor diagnose \"data is gone after docker rm\""])
    return Result("pass", f"wrote a file from one {img} container, removed it, read the file back from a new one")


@check("roundtrip-nonroot", "A non-root user and a fresh volume", "roundtrip", live=True, limit=60)
def _nonroot(ctx: Context) -> Result:
    img, why = _roundtrip_image(ctx)
    if img is None:
        return Result("skip", why)
    pr, vol, path = _scratch_volume(ctx)
    code, out = pr.run(img, f"touch {path}/proof", binds=[f"{vol}:{path}"], user="65534:65534")
    pr.remove_volume(vol)
    if code == 0:
        return Result("pass", "uid 65534 could write a fresh volume")
    return Result("pass", "uid 65534 could NOT write a fresh volume: it belongs to root. Expected; if your app "
                  "runs as a non-root user, see: voldoctor diagnose \"permission denied\"")
