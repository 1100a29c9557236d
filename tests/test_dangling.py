"""The unused-volumes block: only when data loss was reported, only volumes that can hold data."""

from __future__ import annotations

from support import snapshot
from voldoctor import engine, rules
from voldoctor.state import PathStat

RS = rules.load()


def _rules(text, st):
    return {d.rule: d for d in engine.answer(text, RS, lambda pick: st).diagnoses}


def test_not_in_a_check_up_with_no_words():
    assert "dangling-volumes" not in _rules("", snapshot("dangling"))


def test_reported_loss_names_the_full_volume_to_look_into():
    d = _rules("i removed the container and my data is gone, where is it?", snapshot("dangling"))["dangling-volumes"]
    assert any("-v vdt-orphan:/v:ro" in f and "VOLUME" not in f for f in d.fix), d.fix


def test_a_volume_seen_empty_is_left_out_even_without_its_size():
    st = snapshot("dangling")
    vol = st.volume("vdt-orphan")
    st = st.model_copy(update={"volume_sizes": {}, "path_stats": {
        **st.path_stats, vol.mountpoint: PathStat(uid=0, gid=0, mode=0o755, is_dir=True, empty=True)}})
    assert "dangling-volumes" not in _rules("i removed the container and my data is gone, where is it?", st)
