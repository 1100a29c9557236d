"""Reading rule files: TOML, or for a folder that has one, its parsed.json (the same data,
each file under the sha256 of its bytes, so a changed file is parsed again; JSON reads faster
than TOML parses, which counts at start-up). scripts/parse_rules.py makes that file."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PARSED = "parsed.json"  # a rules folder's TOML files, already parsed, each under the sha256 of its bytes


def read_toml(path: Path, parsed: Optional[dict] = None) -> dict:
    """A rule file's data: from `parsed` when it holds this very text (JSON reads faster), else parsed."""
    raw = path.read_bytes()
    hit = (parsed or {}).get(path.name if path.parent.name != "symptoms" else f"symptoms/{path.name}")
    if isinstance(hit, dict) and hit.get("sha256") == hashlib.sha256(raw).hexdigest():
        return hit["data"]
    return tomllib.loads(raw.decode("utf-8"))


def parsed_of(folder: Path) -> dict:
    try:
        return dict(json.loads((folder / PARSED).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return {}
