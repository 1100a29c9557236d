"""Fixtures and settings for the suite; the helpers themselves are in tests/support/.

Live tests get a private Docker daemon, started here with its own socket,
data root and exec root and stopped at the end of the session. It is never
the machine's default daemon. DOCKER_HOST, when the environment gives it, is
used instead.

Hypothesis runs under the profile HYPOTHESIS_PROFILE names: "dev" (the
default: at most 50 examples per fuzz test, for a quick run) or "ci" (the
full counts each test names; .ci/run selects it). pytest's own
--hypothesis-profile option overrides both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from support import FIX_COUNTS, SRC, run_cli, run_json
from support.dockerd import IMAGES, REQUIRE, Lab, PrivateDaemon, build_images, no_new_volumes_left  # noqa: F401 - a fixture

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", deadline=None, suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Children (`python -m voldoctor`, the fix commands) run the tree under test
# too, not whatever copy of voldoctor is installed.
os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])


def pytest_report_header(config):
    return f"hypothesis profile: {settings.get_current_profile_name()}"


_SESSION: dict = {}


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


@pytest.fixture
def cli(capsys):
    return lambda *argv: run_cli(capsys, *argv)


@pytest.fixture
def cli_json(capsys):
    return lambda *argv: run_json(capsys, *argv)


def pytest_terminal_summary(terminalreporter):
    if FIX_COUNTS["run"]:
        terminalreporter.write_line(f"fix lines run: {FIX_COUNTS['run']}, verified (cause gone, goal holds): "
                                    f"{FIX_COUNTS['verified']}")
    for name, why in sorted(FIX_COUNTS["unverified"].items()):
        terminalreporter.write_line(f"  not verifiable here: {name}: {why}")
