"""The layout keeps its promises: small modules, no import cycles (imports
inside functions count too), and one door to the daemon."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "src" / "voldoctor"
MAX_LINES = 400


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every voldoctor module this one imports, at any depth of the code."""
    found = set()
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for top in ast.walk(tree) if isinstance(top, ast.If) and ast.unparse(top.test) == "TYPE_CHECKING"
                   for n in ast.walk(top)}  # imports for type hints only never run
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in known and m != name}


def test_no_module_is_over_400_lines():
    big = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    assert {n: k for n, k in big.items() if k > MAX_LINES} == {}


def test_no_import_cycles():
    mods = modules()
    graph = {n: imports(p, n, set(mods)) for n, p in mods.items()}
    # A package's __init__ importing its own submodules is how a package is built, not a cycle.
    graph = {n: {m for m in deps if not m.startswith(n + ".")} for n, deps in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(n, stack):
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m, stack + [m])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])
    assert cycles == []


def test_exactly_one_module_imports_docker():
    users = set()
    for n, p in modules().items():
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(x == "docker" or x.startswith("docker.") for x in names):
                users.add(n)
    assert users == {"voldoctor.daemon"}
