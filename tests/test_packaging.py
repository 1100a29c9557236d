"""The wheel carries the rules and the matcher's model: a non-editable install into a fresh venv finds them.

Works in any environment the README's install line makes: the wheel is
built without build isolation when hatchling is importable here (offline),
else with it (pip fetches hatchling from the package index). The fresh venv
gets the wheel alone; its dependencies come from the site-packages folders
this interpreter uses, listed in a .pth file (plain folders: their own .pth
files, such as an editable install of voldoctor, are not read)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from voldoctor import rules

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _build_wheel(out: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(5, "--no-build-isolation")  # offline: the backend is here
    p = subprocess.run(cmd, capture_output=True, text=True, env=CLEAN_ENV, timeout=300)
    if p.returncode != 0:
        pytest.fail("could not build the wheel (" + ("without" if "--no-build-isolation" in cmd else "with")
                    + " build isolation); offline, install the build backend first: pip install hatchling\n"
                    + (p.stdout + p.stderr)[-2000:])
    return next(out.glob("voldoctor-*.whl"))


def _site_dirs() -> list[str]:
    """The site-packages folders this interpreter imports from (where the dependencies are)."""
    return [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]


def test_wheel_install_finds_every_rule(tmp_path):
    wheel = _build_wheel(tmp_path / "wheel")
    names = zipfile.ZipFile(wheel).namelist()
    bundled = {p.name for p in rules.bundled_rules_dir().glob("*.toml")} | {"parsed.json"}  # read at start-up
    assert {Path(n).name for n in names if n.startswith("voldoctor/_rules/") and n.count("/") == 2} == bundled

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=CLEAN_ENV)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, env=CLEAN_ENV, timeout=300)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, env=CLEAN_ENV).stdout.strip()
    (Path(site) / "zz_test_dependencies.pth").write_text("".join(d + "\n" for d in _site_dirs()))

    probe = ("import voldoctor, voldoctor.rules as r; rs = r.load(); "
             "print(voldoctor.__file__); print(r.bundled_rules_dir()); print(len(rs.rules), len(rs.symptoms)); "
             "from voldoctor import learned; from voldoctor.symptoms import match; m = learned.model(); "
             "print(learned.MODEL_PATH); print(len(m.classes), match('my volume is not foundd', rs.symptoms).symptom.id)")
    out = subprocess.run([str(py), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path,
                         env=CLEAN_ENV).stdout
    where, rules_dir, counts, model_path, model = out.strip().splitlines()
    assert where.startswith(str(venv)) and rules_dir.startswith(str(venv))
    assert {"voldoctor/model/matcher.json", "voldoctor/model/matcher.weights"} <= set(names)
    assert model_path.startswith(str(venv))
    assert model == f"{len(rules.load().symptoms) + 1} volume-not-found"
    rs = rules.load()
    assert counts == f"{len(rs.rules)} {len(rs.symptoms)}"
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "rules", "lint"], capture_output=True, text=True,
                         cwd=tmp_path, env=CLEAN_ENV)
    assert out.returncode == 0 and out.stdout.startswith("ok:"), out.stdout + out.stderr
    # the lab's pack and the demo's captured states travel in the wheel too
    assert "voldoctor/lab/packs/module-4.toml" in names
    assert any(n.startswith("voldoctor/demo_states/") and n.endswith(".json") for n in names)
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "demo"], capture_output=True, text=True, cwd=tmp_path,
                         stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                        "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, timeout=60)
    assert out.returncode == 0 and "DEMO" in out.stdout and "near miss" in out.stdout, out.stderr
    out = subprocess.run([str(venv / "bin" / "voldoctor"), "lab", "lint", str(ROOT / "src/voldoctor/lab/packs/module-4.toml")],
                         capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
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
