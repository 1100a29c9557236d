"""The one way voldoctor writes a file (reports, snapshots).

The target is never followed when it is a symbolic link, an existing file is
only replaced when asked to, and the text goes to a fresh temporary file in
the same folder (created exclusively, mode 0600) that is then renamed into
place, so a reader never sees half a file and the result is private.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

MODE = 0o600


class WriteError(Exception):
    """A one-line reason the file was not written."""


class Exists(WriteError):
    """The target exists and replacing it was not asked for."""


def write_private(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write text to path, mode 0600. Refuses a symbolic link at path, and an
    existing file unless force. Raises WriteError (or Exists) with a one-line message."""
    p = Path(path)
    shown = str(p)
    if os.path.islink(p):
        raise WriteError(f"{shown} is a symbolic link; voldoctor does not write through links "
                         "(remove the link or choose another file)")
    if p.is_dir():
        raise WriteError(f"{shown} is a folder; give a file name")
    if os.path.lexists(p) and not force:
        raise Exists(f"{shown} already exists; choose another name, or replace it with --force")
    folder = p.parent
    tmp = folder / f".{p.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, MODE)
    except OSError as e:
        raise WriteError(f"cannot write {shown}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), MODE)  # whatever the umask made of it
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, p)  # a rename replaces a link made meanwhile; it never writes through it
        else:
            _place_new(tmp, p, shown)
    except OSError as e:
        _discard(tmp)
        raise WriteError(f"cannot write {shown}: {e.strerror or e}") from None
    except BaseException:
        _discard(tmp)
        raise
    return p


def _place_new(tmp: Path, p: Path, shown: str) -> None:
    """Move tmp to p only if p still does not exist (a hard link fails if it does)."""
    try:
        os.link(tmp, p, follow_symlinks=False)
    except FileExistsError:
        _discard(tmp)
        raise Exists(f"{shown} already exists; choose another name, or replace it with --force") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        if os.path.lexists(p):  # a filesystem without hard links: check once more, then rename
            _discard(tmp)
            raise Exists(f"{shown} already exists; choose another name, or replace it with --force") from None
        os.replace(tmp, p)
        return
    _discard(tmp)


def _discard(tmp: Path) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
