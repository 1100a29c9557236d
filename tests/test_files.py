"""Files voldoctor writes: never through a link, never over a file unasked,
private (0600), and never half written."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from support import snapshot, talk
from voldoctor import files, repl, state as st

def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def snap(tmp_path) -> Path:
    p = tmp_path / "in" / "snap.json"
    p.parent.mkdir()
    p.write_text(st.dump(snapshot("uid-mismatch")))
    return p


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("cmd", ["report", "snapshot"])
def test_refuses_to_write_through_a_link(cmd, tmp_path, snap, cli):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        code, out, err = cli(cmd, "--snapshot", str(snap), "-o", str(link), *extra)
        assert code == 2 and "symbolic link" in err and err.count("\n") == 1, err
        assert victim.read_text() == "keep me" and link.is_symlink()


@pytest.mark.parametrize("cmd", ["report", "snapshot"])
def test_existing_file_needs_force(cmd, tmp_path, snap, cli, open_umask):
    out_file = tmp_path / "me.json"
    out_file.write_text("an older report")
    os.chmod(out_file, 0o644)
    code, out, err = cli(cmd, "--snapshot", str(snap), "-o", str(out_file))
    assert code == 2 and "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out_file.read_text() == "an older report"
    code, out, err = cli(cmd, "--snapshot", str(snap), "-o", str(out_file), "--force")
    assert code == 0
    assert json.loads(out_file.read_text())  # the new one, whole
    assert _mode(out_file) == 0o600


@pytest.mark.parametrize("cmd,name", [("report", "me.json"), ("report", "me.md"), ("snapshot", "s.json")])
def test_new_files_are_private_and_no_temp_is_left(cmd, name, tmp_path, snap, cli, open_umask):
    folder = tmp_path / "out"
    folder.mkdir()
    code, out, err = cli(cmd, "--snapshot", str(snap), "-o", str(folder / name))
    assert code == 0
    assert [p.name for p in folder.iterdir()] == [name]
    assert _mode(folder / name) == 0o600


def test_write_errors_are_one_line_and_leave_nothing(tmp_path):
    with pytest.raises(files.WriteError) as e:
        files.write_private(tmp_path / "missing" / "r.json", "x")
    assert "cannot write" in str(e.value) and "\n" not in str(e.value)
    (tmp_path / "d").mkdir()
    with pytest.raises(files.WriteError, match="is a folder"):
        files.write_private(tmp_path / "d", "x", force=True)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if not os.access(ro, os.W_OK):  # (root may write anywhere)
            with pytest.raises(files.WriteError):
                files.write_private(ro / "r.json", "x")
            assert list(ro.iterdir()) == []
    finally:
        os.chmod(ro, 0o700)


def test_a_dangling_link_is_refused_too(tmp_path):
    link = tmp_path / "r.json"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(files.WriteError, match="symbolic link"):
        files.write_private(link, "x", force=True)
    assert not (tmp_path / "nowhere").exists()


def _reporter(s):
    class A:
        pass

    s.reporter = lambda sess, arg: repl.write_report(sess, arg, A())


def test_repl_report_refuses_an_existing_file_unless_forced(tmp_path, open_umask):
    s, _ = talk(snapshot("uid-mismatch"))
    _reporter(s)
    s.handle("touch: /data/f: Permission denied")
    out = tmp_path / "me.json"
    out.write_text("an older report")
    r = s.handle(f"/report {out}")
    assert "already exists" in r.text and f"/report {out} --force" in r.text
    assert out.read_text() == "an older report"
    r = s.handle(f"/report {out} --force")
    assert "Saved" in r.text
    assert json.loads(out.read_text())["conversation"][0]["you"] == "touch: /data/f: Permission denied"
    assert _mode(out) == 0o600
    link = tmp_path / "link.json"
    link.symlink_to(out)
    r = s.handle(f"/report {link} --force")
    assert "symbolic link" in r.text and "Saved" not in r.text


def test_repl_report_suggests_replay_only_for_json(tmp_path):
    s, _ = talk(snapshot("uid-mismatch"))
    _reporter(s)
    s.handle("touch: /data/f: Permission denied")
    r = s.handle(f"/report {tmp_path / 'me.md'}")
    assert "Saved" in r.text and "--snapshot" not in r.text and "replay it" not in r.text
    assert "/report FILE.json" in r.text
    r = s.handle(f"/report {tmp_path / 'me.json'}")
    assert f"voldoctor --snapshot {tmp_path / 'me.json'}" in r.text


def test_only_files_py_writes_files():
    """One writer: no other module opens a file for writing (the REPL history
    file is prompt_toolkit's, created private by repl.open_history)."""
    import re

    import voldoctor

    rx = re.compile(r"\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wax]b?['\"]")
    src = Path(voldoctor.__file__).resolve().parent
    files = sorted(src.rglob("*.py"))  # subpackages included
    assert files
    offenders = [str(p.relative_to(src)) for p in files if p != src / "files.py" and rx.search(p.read_text())]
    assert offenders == []
