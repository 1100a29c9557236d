"""Reading one file of a learner's project: bounded in size, and every
failure one line naming the file (FILE[:LINE[:COL]]: what is wrong)."""

from __future__ import annotations

from pathlib import Path

MAX_BYTES = 1 << 20  # a compose file or Dockerfile larger than this is not a learner's


class ProjectError(Exception):
    """One line: FILE[:LINE[:COL]]: what is wrong."""


def read_text(p: Path) -> str:
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ProjectError(f"{p}: larger than {MAX_BYTES // 1024} KB; not read")
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ProjectError(f"{p}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ProjectError(f"{p}: cannot read: {e.strerror or e}") from None
