"""Values from the daemon put into a fix line, quoted so that pasting the
line runs exactly the command meant, whatever the name or path holds.

A fix line is prose around a POSIX shell command. Every value is quoted with
shell rules; a value inside `sh -c '...'` is quoted twice (once for the inner
shell, then for the outer single quotes). Control characters cannot be typed
on one line, so a value holding them is written as a printf expansion.
"""

from __future__ import annotations

import re
import shlex

# The single-quoted script of `sh -c '...'` in a template, also as
# `--entrypoint sh IMAGE -c '...'`: its values are read twice.
SH_C = re.compile(r"\bsh (?:\{[a-z_.]+\} )?-c '([^']*)'")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Op(str):
    """A shell operator between two commands of one fix line (only the ones
    made here, never a value from the daemon): written as it is."""

    def __new__(cls, value: str) -> "Op":
        if value not in ("&&",):
            raise ValueError(f"not a shell operator voldoctor writes: {value!r}")
        return super().__new__(cls, value)


AND = Op("&&")


class Under(str):
    """A path below a folder the shell knows ("$(pwd)", "$HOME"), with what follows it in the same
    word: the learner's part is quoted, the folder is expanded by the shell when the line is pasted
    (`"$(pwd)"/'my dir':/app/data`). Shown as it is typed."""

    def __new__(cls, value: str, base: str, lead: str = "") -> "Under":
        if base not in ("$(pwd)", "$HOME"):
            raise ValueError(f"not a folder voldoctor writes: {base!r}")
        obj = super().__new__(cls, value)
        obj.base, obj.lead = base, lead
        return obj

    def shell(self) -> str:
        return (word(self.lead) if self.lead else "") + f'"{self.base}"/' + word(str.__str__(self))

    def __str__(self) -> str:
        return self.shell()


def shown(value):
    """A fact value as evidence: an Under path as it is typed (in a list too), anything else as it is."""
    if isinstance(value, Under):
        return str(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, Under) for v in value):
        return [str(v) for v in value]
    return value


def word(value: str) -> str:
    """One shell word that the shell reads back as exactly `value`."""
    if isinstance(value, Op):
        return str(value)
    if isinstance(value, Under):
        return value.shell()
    if not _CONTROL.search(value):
        return shlex.quote(value)
    if "\x00" in value or value.endswith("\n"):
        # A NUL cannot be passed in argv; trailing newlines are dropped by $(...).
        return shlex.quote(_CONTROL.sub("?", value))
    escaped = "".join(_b_char(c) for c in value)
    return "\"$(printf '%b' " + shlex.quote(escaped) + ')"'


def _b_char(c: str) -> str:
    """One character as printf's %b reads it back."""
    if c == "\\":
        return "\\\\"
    if _CONTROL.match(c):
        return "\\0%03o" % ord(c)
    return c


def words(value: str) -> str:
    """A space-separated list, each item its own word."""
    return " ".join(word(v) for v in value.split())


def nested(quoted: str) -> str:
    """A word already quoted for the inner shell, put inside outer single quotes."""
    return quoted.replace("'", "'\\''")


def inside_sh_c(template: str) -> list[tuple[int, int]]:
    """Spans of `template` that are inside the script of an `sh -c '...'`."""
    return [m.span(1) for m in SH_C.finditer(template)]
