"""The wheel carries the rules: a non-editable install into a fresh venv finds every one."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from voldoctor import rules

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_install_finds_every_rule(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheel_dir.glob("voldoctor-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    bundled = {p.name for p in rules.bundled_rules_dir().glob("*.toml")}
    assert {Path(n).name for n in names if n.startswith("voldoctor/_rules/") and n.count("/") == 2} == bundled

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True,
                   capture_output=True)
    probe = ("import voldoctor, voldoctor.rules as r; rs = r.load(); "
             "print(voldoctor.__file__); print(r.bundled_rules_dir()); print(len(rs.rules), len(rs.symptoms))")
    out = subprocess.run([str(py), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    where, rules_dir, counts = out.strip().splitlines()
    assert where.startswith(str(venv)) and rules_dir.startswith(str(venv))
    rs = rules.load()
    assert counts == f"{len(rs.rules)} {len(rs.symptoms)}"
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "rules", "lint"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("ok:")
    # the lab's pack and the demo's captured states travel in the wheel too
    assert "voldoctor/lab/packs/module-4.toml" in names
    assert any(n.startswith("voldoctor/demo_states/") and n.endswith(".json") for n in names)
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "demo"], capture_output=True, text=True, cwd=tmp_path,
                         stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                        "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, timeout=60)
    assert out.returncode == 0 and "DEMO" in out.stdout and "near miss" in out.stdout, out.stderr
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "lab", "lint", str(ROOT / "src/voldoctor/lab/packs/module-4.toml")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stdout


def test_help_imports_neither_docker_nor_prompt_toolkit():
    code = ("import sys; from voldoctor import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('docker', 'prompt_toolkit', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_module_entry_and_version():
    out = subprocess.run([sys.executable, "-m", "voldoctor", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("voldoctor ")
