#!/usr/bin/env python3
"""Rewrite rules/parsed.json after a rule or symptom file changed: every file's parsed data under
the sha256 of its bytes. The loader reads a file's data from it while the hash matches, else parses
the TOML, so a stale entry costs start-up time, never a wrong rule; tests/test_rules.py says when it
is stale."""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from voldoctor import rules  # noqa: E402
from voldoctor.rulefiles import PARSED, read_toml  # noqa: E402


def main() -> int:
    folder = rules.bundled_rules_dir()
    out = {}
    for p in sorted(folder.glob("*.toml")) + sorted((folder / "symptoms").glob("*.toml")):
        key = p.name if p.parent == folder else f"symptoms/{p.name}"
        out[key] = {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "data": read_toml(p)}
    (folder / PARSED).write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(folder / PARSED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
