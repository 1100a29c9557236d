"""Compose's naming rules, as pure functions: the project name, variable
interpolation, .env files and the real names of a project's volumes.

Two generations of Compose disagree in places, and both are in use:
  v1 (docker-compose, Python, 1.x): the project name is -p, else
      COMPOSE_PROJECT_NAME (shell, then .env), else the project folder's base
      name; whichever it is, it is lowercased and every character other than
      a-z, 0-9, '-' and '_' is dropped. There is no top-level `name:`.
      A volume is PROJECT_KEY with leading '-'/'_' of the project stripped;
      a volume made under the 1.20-era name (project with '-' and '_'
      removed) is still used when it exists.
  v2 (docker compose, Go): -p, else COMPOSE_PROJECT_NAME, else the top-level
      `name:`, else the folder's base name. Only the folder name is
      normalised (lowercased, other characters dropped, leading '-'/'_'
      trimmed); a name given by -p, the variable or `name:` must already be
      valid, or Compose refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

VALID_PROJECT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ComposeError(ValueError):
    """A value Compose itself would refuse (a bad project name, ${VAR:?message})."""


def normalize_v1(name: str) -> str:
    return re.sub(r"[^-_a-z0-9]", "", name.lower())


def normalize_v2(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")


@dataclass(frozen=True)
class ProjectName:
    name: str
    origin: str  # "-p", "COMPOSE_PROJECT_NAME", "name:", "folder"


def project_name(folder: str, *, flag: Optional[str] = None, env: Mapping[str, str] = {},
                 top_name: Optional[str] = None, flavor: str = "v2") -> ProjectName:
    """The project name Compose uses. `env` is the shell's environment over
    the .env file's (as Compose merges them); `folder` the project folder's
    base name."""
    given = [(flag, "-p"), (env.get("COMPOSE_PROJECT_NAME") or None, "COMPOSE_PROJECT_NAME")]
    if flavor == "v2":
        given.append((top_name, "name:"))
    for value, origin in given:
        if value:
            if flavor == "v1":
                return ProjectName(normalize_v1(value), origin)
            if not VALID_PROJECT.match(value):
                raise ComposeError(f"{value!r} (from {origin}) is not a valid project name: use only lowercase "
                                   "letters, digits, '-' and '_', starting with a letter or digit")
            return ProjectName(value, origin)
    name = normalize_v1(folder) if flavor == "v1" else normalize_v2(folder)
    return ProjectName(name or "default", "folder")


def volume_name(project: str, key: str, decl: Optional[dict], flavor: str = "v2") -> str:
    """The real name of the volume declared under top-level `volumes:` as `key`."""
    decl = decl if isinstance(decl, dict) else {}
    ext = decl.get("external")
    if isinstance(ext, dict) and ext.get("name"):
        return str(ext["name"])  # the older external: {name: x} form
    if decl.get("name"):
        return str(decl["name"])
    if ext:
        return key
    return f"{project.lstrip('-_') if flavor == 'v1' else project}_{key}"


def legacy_volume_name(project: str, key: str) -> str:
    """The name Compose v1 before 1.21 gave a volume, still used by 1.21+ when it exists."""
    return f"{re.sub(r'[_-]', '', project)}_{key}"


# ------------------------------------------------------------ interpolation

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_BRACED = re.compile(r"([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-?+])(.*))?", re.S)


def interpolate(value: str, env: Mapping[str, str], where: str = "", depth: int = 0) -> str:
    """${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $$, as Compose reads them. An
    unset variable without a default is the empty string (Compose warns).
    A default may itself hold ${...} (Compose v2 reads it; v1 refuses)."""
    def bad() -> ComposeError:
        return ComposeError(f"{where}invalid interpolation format in {value!r}: a '$' must start "
                            "${NAME} or $NAME (write $$ for a literal $)")

    if depth > 20:
        raise ComposeError(f"{where}interpolation nested too deeply in {value[:60]!r}")
    out, i, n = [], 0, len(value)
    while i < n:
        c = value[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = value[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            level, j = 1, i + 2
            while j < n and level:
                if value[j] == "{":
                    level += 1
                elif value[j] == "}":
                    level -= 1
                j += 1
            if level:
                raise bad()
            m = _BRACED.fullmatch(value[i + 2:j - 1])
            if not m:
                raise bad()
            out.append(_expand(m.group(1), m.group(2), m.group(3) or "", env, where, depth))
            i = j
            continue
        m = _NAME.match(value, i + 1)
        if not m:
            raise bad()
        out.append(env.get(m.group(0)) or "")
        i = m.end()
    return "".join(out)


def _expand(name: str, op: Optional[str], arg: str, env: Mapping[str, str], where: str, depth: int) -> str:
    val = env.get(name)
    if not op:
        return val or ""
    empty = val is None or (op.startswith(":") and val == "")
    kind = op[-1]
    if kind == "-":
        return interpolate(arg, env, where, depth + 1) if empty else val
    if kind == "+":
        return "" if empty else interpolate(arg, env, where, depth + 1)
    if empty:  # '?'
        raise ComposeError(f"{where}required variable {name} is missing a value" + (f": {arg}" if arg else ""))
    return val


def interpolate_tree(obj, env: Mapping[str, str], where: str = ""):
    """Every string in a parsed compose file, interpolated (keys are not, as in Compose)."""
    if isinstance(obj, str):
        return interpolate(obj, env, where)
    if isinstance(obj, list):
        return [interpolate_tree(x, env, where) for x in obj]
    if isinstance(obj, dict):
        return {k: interpolate_tree(v, env, where) for k, v in obj.items()}
    return obj


# ------------------------------------------------------------ .env

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")


def parse_env(text: str) -> dict[str, str]:
    """A .env file as Compose reads it: KEY=VALUE lines, '#' comments, single
    quotes literal, double quotes with \\n escapes, an unquoted value ending at
    ' #'. Earlier keys are visible to later ${...} references."""
    out: dict[str, str] = {}
    for raw in text.lstrip("\ufeff").splitlines():
        m = _ENV_LINE.match(raw)
        if not m:
            continue
        key, val = m.group(1), m.group(2).strip()
        if val[:1] == "'" and "'" in val[1:]:
            val = val[1:val.index("'", 1)]
        elif val[:1] == '"' and '"' in val[1:]:
            end = 1
            while end < len(val) and not (val[end] == '"' and val[end - 1] != "\\"):
                end += 1
            val = val[1:end].replace('\\"', '"').replace("\\n", "\n")
            try:
                val = interpolate(val, {**out})
            except ComposeError:
                pass
        else:
            val = re.split(r"\s+#", val, maxsplit=1)[0].strip()
            try:
                val = interpolate(val, {**out})
            except ComposeError:
                pass
        out[key] = val
    return out
