"""Typing slips in a pasted command: read as meant, said, and shown corrected."""

from __future__ import annotations

import pytest

from support import snapshot
from voldoctor import commandline, engine, rules

RS = rules.load()

SLIPS = [
    ("docker run -d -v my-data /app/data vdt-busybox:latest", "space where the ':' goes",
     "docker run -d -v my-data:/app/data vdt-busybox:latest"),
    ("docker run -v my-data/app/data vdt-busybox:latest", "no ':' between",
     "docker run -v my-data:/app/data vdt-busybox:latest"),
    ("docker rum -d -p 8965:80 -v my-data:/app/data vdt-busybox:latest", "you meant 'docker run'",
     "docker run -d -p 8965:80 -v my-data:/app/data vdt-busybox:latest"),
    ("docker run -d -p 8965;80 vdt-busybox:latest", "-p 8965:80",
     "docker run -d -p 8965:80 vdt-busybox:latest"),
]


@pytest.mark.parametrize("text,said,meant", SLIPS)
def test_slip_is_read_as_meant_and_shown_corrected(text, said, meant):
    pc = commandline.parse(text)
    assert pc.ok and pc.image == "vdt-busybox:latest"
    assert any(said in s for s in pc.slips), pc.slips
    assert " ".join(pc.corrected) == meant
    a = engine.answer(text, RS, lambda pick: snapshot("healthy-permission"))
    d = a.diagnoses[0]
    assert d.rule == "command-slip", [x.rule for x in a.diagnoses]
    assert f"Run it as meant: {meant}" in d.fix
    assert "port-in-use" not in [x.rule for x in a.diagnoses]
    assert not any("/app/data" == m.target and m.type == "anonymous" for m in pc.mounts)


@pytest.mark.parametrize("text", ["docker run -d -p 8965:80 -v my-data:/app/data vdt-busybox:latest",
                                  "docker run -v /srv/site:/usr/share/nginx/html:ro nginx",
                                  "docker run -v /app/data nginx", "docker run -p 8080-8090:80 nginx"])
def test_no_slip_in_a_well_typed_command(text):
    pc = commandline.parse(text)
    assert pc.slips == () and pc.corrected == ()


def test_a_mistyped_volume_verb_is_read_as_meant():
    pc = commandline.parse("docker volum rm my_data")
    assert pc.kind == "volume-rm" and pc.volumes == ("my_data",)
    assert pc.slips and " ".join(pc.corrected) == "docker volume rm my_data"
    assert commandline.command_line("where are docker volumes stored") is None


@pytest.mark.parametrize("spec,fixed", [("/var/lib/shop:shop-db", "shop-db:/var/lib/shop"),
                                        ("/app/data:my-data:ro", "my-data:/app/data:ro"),
                                        ("/home/me/site:app", "/home/me/site:/app"), ("data:app/data", "data:/app/data")])
def test_a_mount_written_backwards_is_turned_round(spec, fixed):
    """A container's data folder before ':' and a bare name after it is the two sides swapped, not a
    container path missing its '/': made absolute it would mount a new host folder and leave the volume unused."""
    assert commandline.parse(f"docker run -v {spec} app").mounts[0].corrected == fixed


def test_a_relative_host_path_is_fine_for_a_newer_engine():
    """The CLI of Engine 23 and later reads ./site from the current folder; only an older one makes it a volume."""
    from voldoctor.facts import spec as spec_facts

    st = snapshot("healthy-persist")
    m = commandline.parse("docker run -v ./site:/srv/www app").mounts[0]
    assert spec_facts.produce(st, m)["spec.problem"]  # this engine speaks API 1.41
    newer = st.model_copy(update={"info": st.info.model_copy(update={"api_version": "1.45"})})
    assert spec_facts.produce(newer, m)["spec.problem"] is None


def test_a_volume_name_with_a_space_is_a_name_to_mend_not_a_folder():
    m = commandline.parse('docker run -v "my notes:/app/data:ro" app').mounts[0]
    assert m.corrected == "my-notes:/app/data:ro" and "not a valid volume name" in m.problem
    assert "$(pwd)" in str(commandline.parse("docker run -v data/in:/app app").mounts[0].corrected)  # a path, here
