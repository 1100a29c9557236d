"""The conversation on the private daemon: what "check again" says when the
container is made again or the daemon goes, and a --rm container stopped."""

from __future__ import annotations

import pytest

from support import wait_until
from voldoctor import daemon, rules
from voldoctor.session import Session

pytestmark = pytest.mark.live


def _session(host: str) -> Session:
    ep = daemon.resolve_endpoint(host)
    return Session(rules.load(), lambda: (lambda pick: daemon.collect(ep, 10, pick)), unicode=False)


def test_check_again_after_recreating_and_after_the_daemon_went(lab, daemon_host, tmp_path):
    web = lab.name("web")
    first, other = lab.volume(lab.name("first")), lab.volume(lab.name("other"))
    cid = lab.container(web, binds=[f"{first}:/app/date"])
    s = _session(daemon_host)
    s.handle(f"my container is called {web}")
    r = s.handle("data in /app/data is gone after docker rm")
    assert "/app/date" in r.text and s.focus.container == web
    lab.api.remove_container(cid, force=True)
    lab.container(web, binds=[f"{other}:/app/data"])  # the learner recreates it, with another volume
    r = s.handle("check again")
    assert "Nothing changed" not in r.text
    assert f"{web} is a new container under the same name" in r.text and f"now mounts {other} at /app/data" in r.text
    dead = daemon.resolve_endpoint(f"unix://{tmp_path}/gone.sock")
    s.sources = lambda: (lambda pick: daemon.collect(dead, 2, pick))
    r = s.handle("check again")
    assert "I could not look" in r.text
    assert "Fixed" not in r.text and "Still there" not in r.text and "Nothing changed" not in r.text


def test_a_stopped_rm_container_took_its_anonymous_volume(lab, daemon_host):
    web = lab.name("rm")
    cid = lab.container(web, image="vdt-busybox-vol:latest", auto_remove=True)  # VOLUME /app/data: anonymous
    s = _session(daemon_host)
    s.handle(f"my container is called {web}")
    r = s.handle("data in /app/data is gone after i recreate the container")
    warned = [line.text for line in r.lines if line.style in ("warning", "error") and "--rm" in line.text]
    assert any("stop" in w.lower() and "anonymous volume" in w for w in warned), r.text
    lab.api.stop(cid, timeout=1)
    wait_until(lambda: not lab.api.containers(all=True, filters={"id": cid}), what="the --rm container to go")
    r = s.handle("i stopped it")
    assert "I am not sure" not in r.text
    assert f"The container {web} we were talking about is gone" in r.text
    assert "anonymous volume went with it" in r.text
    r = s.handle("check again")
    assert "Fixed" not in r.text and "Gone, not fixed" in r.text
