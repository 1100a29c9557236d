"""The Docker side of the test harness: a private dockerd (own socket, data
root and exec root, and a loopback TCP listener), the busybox test images,
and a Lab that builds daemon states and removes what it made.

Used by tests/conftest.py and by the scripts in bench/. It never touches the
machine's default daemon.
"""

from __future__ import annotations

import pytest

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

PREFIX = "vdt-"
REQUIRE = os.environ.get("VOLDOCTOR_REQUIRE_DAEMON") == "1"

# Images built by the harness: name -> extra `docker import` changes.
IMAGES = {
    "vdt-busybox:latest": [],
    "vdt-busybox-user:latest": ["USER app"],
    "vdt-busybox-vol:latest": ["VOLUME /app/data"],
    "vdt-busybox-app:latest": ["WORKDIR /app"],
    "vdt-busybox-entry:latest": ['ENTRYPOINT ["sleep"]', 'CMD ["600"]'],  # runs `sleep 600`; a command is sleep's argument
}


class PrivateDaemon:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="vdt-dockerd-"))
        os.chmod(self.dir, 0o755)  # so a dropped-privilege test reaches the socket itself
        self.sock = self.dir / "docker.sock"
        self.pidfile = self.dir / "docker.pid"
        self.log = self.dir / "dockerd.log"
        self.proc = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.tcp_port = s.getsockname()[1]

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def start(self, wait: float = 60.0) -> None:
        cmd = [
            "dockerd", "--data-root", str(self.dir / "root"), "--exec-root", str(self.dir / "exec"),
            "-H", self.host, "-H", self.tcp_host, "--pidfile", str(self.pidfile), "--bridge=none", "--iptables=false",
            "--ip6tables=false",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait
        import docker

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if self.sock.exists():
                try:
                    docker.APIClient(base_url=self.host, version="auto", timeout=5).ping()
                    return
                except Exception:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not come up in {wait}s: {self.log.read_text()[-2000:]}")

    def stop(self, keep: bool = False) -> None:
        """Stop the daemon; with keep, leave its data for a restart."""
        if self.proc is not None:
            pid = self.pid
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None
        if keep:
            return
        subprocess.run(["umount", "-R", str(self.dir / "exec")], capture_output=True)
        subprocess.run(["umount", "-R", str(self.dir / "root")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def pid(self) -> int:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return self.proc.pid


def _busybox_rootfs_tar() -> bytes:
    busybox = shutil.which("busybox") or "/bin/busybox"
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add_dir(name, mode=0o755, uid=0):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.uid, ti.gid = tarfile.DIRTYPE, mode, uid, uid
            tar.addfile(ti)

        def add_file(name, data: bytes, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), mode
            tar.addfile(ti, io.BytesIO(data))

        for d in ("bin", "etc", "tmp", "data", "app", "home", "home/app"):
            add_dir(d, 0o1777 if d == "tmp" else 0o755, 1000 if d == "home/app" else 0)
        add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
        for a in applets:
            if a == "busybox":
                continue  # busybox --list names itself; a link would replace the binary
            ti = tarfile.TarInfo(f"bin/{a}")
            ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
                 b"nobody:x:65534:65534:nobody:/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n")
        add_file("app/index.html", b"<h1>the app</h1>\n")
    return buf.getvalue()


def build_images(client) -> None:
    rootfs = _busybox_rootfs_tar()
    for name, extra in IMAGES.items():
        repo, tag = name.rsplit(":", 1)
        client.import_image_from_data(rootfs, repository=repo, tag=tag,
                                      changes=["ENV PATH=/bin", 'CMD ["sh"]', *extra])




@contextlib.contextmanager
def some_daemon():
    """DOCKER_HOST if set, else a private dockerd for the length of the block (for bench/)."""
    host = os.environ.get("DOCKER_HOST")
    priv = None
    if not host:
        priv = PrivateDaemon()
        priv.start()
        host = priv.host
    try:
        yield host
    finally:
        if priv:
            priv.stop()


class Lab:
    """Builds daemon states for one test and removes every object it made."""

    def __init__(self, host: str):
        import docker

        self.host = host
        self.api = docker.APIClient(base_url=host, version="auto", timeout=60)
        self.tag = PREFIX + uuid.uuid4().hex[:6]
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="vdt-lab-"))

    def name(self, base: str) -> str:
        return f"{self.tag}-{base}"

    def volume(self, name: str, **kw) -> str:
        self.api.create_volume(name, **kw)
        self.volumes.append(name)
        return name

    def container(self, name: str, image="vdt-busybox:latest", command=("sleep", "600"), *, binds=None,
                  mounts=None, user=None, start=True, volumes=None, environment=None, labels=None,
                  auto_remove=False, entrypoint=None, read_only=False, tmpfs=None) -> str:
        hc = self.api.create_host_config(binds=binds or [], mounts=mounts or None, network_mode="none",
                                         auto_remove=auto_remove, read_only=read_only, tmpfs=tmpfs)
        c = self.api.create_container(image, list(command), name=name, host_config=hc, user=user,
                                      volumes=volumes, environment=environment, labels=labels,
                                      entrypoint=entrypoint, stop_timeout=1)  # sleep as PID 1 ignores SIGTERM
        self.containers.append(c["Id"])
        if start:
            self.api.start(c["Id"])
        return c["Id"]

    def run(self, name: str, image="vdt-busybox:latest", command=("true",), **kw) -> int:
        cid = self.container(name, image, command, **kw)
        return self.api.wait(cid, timeout=60)["StatusCode"]

    def cleanup(self) -> None:
        for cid in reversed(self.containers):
            try:
                self.api.remove_container(cid, force=True, v=True)
            except Exception:
                pass
        for v in self.volumes:
            try:
                self.api.remove_volume(v, force=True)
            except Exception:
                pass
        self.api.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(autouse=False)
def no_new_volumes_left(daemon_host):
    """Commands run for real leave anonymous volumes behind on purpose (that is
    what some forecasts say); remove every volume a test added. A module asks
    for it with `pytest.mark.usefixtures("no_new_volumes_left")`."""
    import docker

    api = docker.APIClient(base_url=daemon_host, version="auto", timeout=60)
    before = {v["Name"] for v in (api.volumes().get("Volumes") or [])}
    yield
    for v in api.volumes().get("Volumes") or []:
        if v["Name"] not in before:
            try:
                api.remove_volume(v["Name"], force=True)
            except Exception:  # noqa: BLE001 - in use by a container the test's own cleanup removes
                pass
    api.close()
