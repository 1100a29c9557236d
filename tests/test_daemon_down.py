"""A daemon that does not answer: the symptom's advice is still given, and an
address that came from DOCKER_HOST is named as the thing to fix."""

from __future__ import annotations

import pytest

from voldoctor import engine, render, rules
from voldoctor.state import DaemonError, DaemonState, Endpoint

RS = rules.load()


def _down(url: str, origin: str, kind: str = "connection-refused") -> DaemonState:
    ep = Endpoint(url=url, origin=origin)
    return DaemonState(endpoint=ep, reachable=False, error=DaemonError(kind=kind, endpoint=url, detail="refused"))


def _answer(origin: str, kind: str = "connection-refused"):
    st = _down("tcp://10.9.8.7:2375", origin, kind)
    return engine.answer("touch: /data/f: Permission denied", RS, lambda pick: st)


def test_the_symptoms_advice_comes_under_the_daemon_line():
    a = _answer("default")
    assert a.daemon_down and a.advice
    text = render.answer_text(a)
    lines = text.splitlines()
    assert lines[0].startswith("Daemon: ")
    assert "general advice for permission-denied" in lines[1]
    assert a.advice[0] in text


@pytest.mark.parametrize("kind", ["connection-refused", "socket-missing"])
def test_a_dead_docker_host_is_named_before_starting_docker(kind):
    a = _answer("DOCKER_HOST", kind)
    d = a.diagnoses[0]
    assert d.rule == "daemon-not-running"
    assert "DOCKER_HOST" in d.fix[0] and "unset DOCKER_HOST" in d.fix[0]
    assert not any("export DOCKER_HOST=" in f for f in d.fix)
    assert "comes from DOCKER_HOST" in render.answer_text(a).splitlines()[0]


def test_the_default_socket_still_leads_with_starting_docker():
    d = _answer("default").diagnoses[0]
    assert "systemctl start docker" in d.fix[0] and not any("unset DOCKER_HOST" in f for f in d.fix)
