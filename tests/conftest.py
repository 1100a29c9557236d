"""Test harness: a private Docker daemon for the live tests, and helpers.

The daemon is started here, with its own socket, data root and exec root,
and stopped at the end of the session. It is never the machine's default
daemon. DOCKER_HOST, when the environment gives it, is used instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
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

# Fix lines run for real by the live tests, and those whose scenario then
# checked the cause gone and the learner's goal holding (printed at the end).
FIX_COUNTS = {"run": 0, "verified": 0}


def pytest_terminal_summary(terminalreporter):
    if FIX_COUNTS["run"]:
        terminalreporter.write_line(f"fix lines run: {FIX_COUNTS['run']}, verified (cause gone, goal holds): "
                                    f"{FIX_COUNTS['verified']}")


def pytest_configure(config):
    config.addinivalue_line("markers", "live: needs a real Docker daemon")
    config.addinivalue_line("markers", "faults: provokes daemon faults (frozen, dying, garbage) on a daemon of its own")


_SESSION: dict = {}


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


@pytest.fixture(scope="session")
def daemon_host():
    """The endpoint of a daemon for live tests: DOCKER_HOST if given, else a
    private dockerd started here. Skips (or fails, under
    VOLDOCTOR_REQUIRE_DAEMON=1) when neither is possible."""
    given = os.environ.get("DOCKER_HOST")
    private = None
    if not given:
        why = None
        if shutil.which("dockerd") is None:
            why = "dockerd is not installed (apt-get install docker.io)"
        elif os.geteuid() != 0:
            why = "a private dockerd needs root"
        elif shutil.which("busybox") is None and not Path("/bin/busybox").exists():
            why = "busybox is not installed (apt-get install busybox-static)"
        if why:
            if REQUIRE:
                pytest.fail(f"VOLDOCTOR_REQUIRE_DAEMON=1 but {why}")
            pytest.skip(why)
        private = PrivateDaemon()
        try:
            private.start()
        except Exception as e:
            private.stop()
            if REQUIRE:
                pytest.fail(f"could not start a private dockerd: {e}")
            pytest.skip(f"could not start a private dockerd: {e}")
    host = given or private.host
    _SESSION["tcp_host"] = private.tcp_host if private else None
    import docker

    client = docker.APIClient(base_url=host, version="auto", timeout=60)
    try:
        have = {t for i in client.images() for t in (i.get("RepoTags") or [])}
        if not set(IMAGES) <= have:
            build_images(client)
        yield host
    finally:
        client.close()
        if private is not None:
            private.stop()


@contextlib.contextmanager
def busy_port():
    """A loopback port that something is listening on, for the block."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


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
                  auto_remove=False, entrypoint=None) -> str:
        hc = self.api.create_host_config(binds=binds or [], mounts=mounts or None, network_mode="none",
                                         auto_remove=auto_remove)
        c = self.api.create_container(image, list(command), name=name, host_config=hc, user=user,
                                      volumes=volumes, environment=environment, labels=labels, entrypoint=entrypoint)
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


@pytest.fixture
def tcp_host(daemon_host):
    """The private daemon over TCP on loopback: to voldoctor, a daemon on another machine."""
    if not _SESSION.get("tcp_host"):
        pytest.skip("the daemon was given by DOCKER_HOST; no private TCP listener")
    return _SESSION["tcp_host"]


@pytest.fixture
def lab(daemon_host):
    lab = Lab(daemon_host)
    try:
        yield lab
    finally:
        lab.cleanup()


@pytest.fixture
def on_daemon(daemon_host, monkeypatch):
    """Point voldoctor (run in-process) at the test daemon and nothing else."""
    monkeypatch.setenv("DOCKER_HOST", daemon_host)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return daemon_host


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    from voldoctor.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, *argv, "--json")
    return code, json.loads(out)


@pytest.fixture
def cli(capsys):
    return lambda *argv: run_cli(capsys, *argv)


@pytest.fixture
def cli_json(capsys):
    return lambda *argv: run_json(capsys, *argv)


def as_nobody(fn) -> object:
    """Run fn() in a forked child that dropped root (uid/gid 65534, no groups)
    and return what it returns (JSON-able). Modules it needs must be imported
    before the call: the child may not be able to read site-packages."""
    import docker  # noqa: F401
    import docker.errors  # noqa: F401
    import docker.utils  # noqa: F401
    import requests.exceptions  # noqa: F401

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


def voldoctor_subprocess(*argv, env=None, timeout=60, input=None):
    e = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "voldoctor", *argv], capture_output=True, text=True,
                          env=e, timeout=timeout, input=input)
