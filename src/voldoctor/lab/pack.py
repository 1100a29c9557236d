"""A lab pack: one TOML file that says what a lab's steps leave on the daemon,
the hints for each step, and what `check` needs (image, port, volume, path).

The schema is closed like the rules': a mistake is named by file and field
with the closest valid name, and every example a pack carries must agree
with it, or the pack does not load.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from voldoctor.rules import ID_RE, _explain

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PLACEHOLDERS = ("image", "volume", "path", "port")
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabProfile(_Model):
    """What `check` needs of a lab; the module's own lab is the default."""

    image: str = "docker/getting-started:latest"
    port: int = Field(default=8965, ge=1, le=65535)
    volume: str = "my-data"
    path: str = "/app/data"


def _placeholders_known(text: str) -> str:
    for name in PLACEHOLDER_RE.findall(text):
        if name not in PLACEHOLDERS and name != "container":
            raise ValueError(f"unknown placeholder {{{name}}}; use " + ", ".join("{%s}" % p for p in
                                                                               (*PLACEHOLDERS, "container")))
    return text


def _check_port(v):
    if isinstance(v, str) and v != "{port}":
        raise ValueError("a port number, or \"{port}\" for the pack's port")
    if isinstance(v, int) and not isinstance(v, bool) and not 1 <= v <= 65535:
        raise ValueError("a port from 1 to 65535")
    return v


def split_mount(text: str) -> tuple[str, str]:
    name, sep, path = text.partition(":")
    return name, path


class ContainerExpect(_Model):
    """A container that runs an image (matched by what it runs and mounts, never by its name)."""

    image: str = "{image}"
    mount: Optional[str] = None  # VOLUME:PATH
    running: Optional[bool] = None
    user: Optional[str] = None
    port: Optional[Union[int, str]] = None  # a host port it publishes; "{port}" is the pack's
    data_from_before: Optional[bool] = None  # the volume at `mount` holds data older than the container

    @field_validator("image", "mount", "user")
    @classmethod
    def _known(cls, v):
        return _placeholders_known(v) if isinstance(v, str) else v

    @field_validator("mount")
    @classmethod
    def _mount_shape(cls, v):
        return _volume_path(v, "VOLUME:/path, e.g. my-data:/app/data")

    @field_validator("port")
    @classmethod
    def _port(cls, v):
        return _check_port(v)

    @model_validator(mode="after")
    def _data_needs_mount(self):
        if self.data_from_before and not self.mount:
            raise ValueError("data_from_before needs mount = \"VOLUME:/path\"")
        return self


def _volume_path(v: Optional[str], shape: str, inside: bool = False) -> Optional[str]:
    """VOLUME:/path (a mount), or with `inside` a path within the volume (not its root, no '..')."""
    if v is not None:
        name, path = split_mount(v)
        bad = inside and (path.rstrip("/") == "" or ".." in path.split("/"))
        if not name or not path.startswith(("/", "{path}")) or bad:
            raise ValueError(f"{v!r}: write it as {shape}")
    return v


class Expect(_Model):
    """One thing a step leaves on the daemon. Exactly one of volume,
    container, file, port; `absent = true` turns it around (clean-up)."""

    volume: Optional[str] = None
    container: Optional[ContainerExpect] = None
    file: Optional[str] = None  # VOLUME:PATH, a file inside the volume
    content: Optional[str] = None  # with file: what it holds (surrounding white space aside)
    port: Optional[Union[int, str]] = None  # a host port some container publishes
    absent: bool = False

    @field_validator("volume", "file")
    @classmethod
    def _known(cls, v):
        return _placeholders_known(v) if isinstance(v, str) else v

    @field_validator("file")
    @classmethod
    def _file_shape(cls, v):
        return _volume_path(v, "VOLUME:/path/in/volume, e.g. course-db:/PG_VERSION", inside=True)

    @field_validator("port")
    @classmethod
    def _port(cls, v):
        return _check_port(v)

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("volume", "container", "file", "port") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of: volume, container, file, port")
        if self.content is not None and self.file is None:
            raise ValueError("content goes with file")
        if self.absent and self.file is not None and self.content is not None:
            raise ValueError("absent with content means nothing; use one or the other")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("volume", "container", "file", "port") if getattr(self, k) is not None)


class Step(_Model):
    id: str = Field(pattern=ID_RE)
    title: str = Field(min_length=3)
    look: bool = False  # a step that only looks (ls, inspect): shown, never blocks
    expect: tuple[Expect, ...] = ()
    hints: tuple[str, str, str]  # a nudge; the concept and the command; the exact command
    command: str = ""  # the step's command as the module gives it (shown by `lab`)

    @field_validator("hints", "command")
    @classmethod
    def _known(cls, v):
        for x in (v if isinstance(v, tuple) else (v,)):
            _placeholders_known(x)
        return v

    @model_validator(mode="after")
    def _checkable(self):
        if not self.expect and not self.look:
            raise ValueError("a step needs expect = [...] (or look = true for a step that only looks)")
        return self


class ExampleContainer(_Model):
    image: str
    mounts: tuple[str, ...] = ()  # VOLUME:PATH
    running: bool = True
    user: str = ""
    ports: tuple[int, ...] = ()
    created: int = 2000  # seconds; data_from_before compares with `data_since`


class Example(_Model):
    """A small daemon state and the step that must be current on it ("" when every step is done)."""

    volumes: tuple[str, ...] = ()
    containers: tuple[ExampleContainer, ...] = ()
    files: dict[str, str] = {}  # VOLUME:PATH -> content
    data_since: dict[str, int] = {}  # volume -> when its oldest file was written (seconds)
    reached: str = ""  # the furthest step a learner had been at before
    current: str


class Pack(LabProfile):
    id: str = Field(pattern=ID_RE)
    title: str = Field(min_length=3)
    source: str = ""
    steps: tuple[Step, ...] = Field(min_length=1)
    examples: tuple[Example, ...] = ()

    @model_validator(mode="after")
    def _ids(self):
        ids = [s.id for s in self.steps]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"step ids must differ: {', '.join(dup)}")
        for i, ex in enumerate(self.examples, 1):
            for ref in (ex.current, ex.reached):
                if ref and ref not in ids:
                    from voldoctor.rules import did_you_mean

                    raise ValueError(f"example {i} names no step {ref!r}{did_you_mean(ref, ids)}")
        return self

    @property
    def profile(self) -> LabProfile:
        return LabProfile(image=self.image, port=self.port, volume=self.volume, path=self.path)

    def fill(self, text: str, extra: Optional[dict] = None) -> str:
        """Put the pack's names (and any extra, e.g. container) into a text, as they are."""
        values = {"image": self.image, "volume": self.volume, "path": self.path, "port": str(self.port), **(extra or {})}
        return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def step(self, step_id: str) -> Optional[Step]:
        return next((s for s in self.steps if s.id == step_id), None)


class PackError(Exception):
    """A pack is invalid. Each problem is one line: file: field: what."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0] if problems else "invalid pack")


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent / "packs"


def default_path() -> Path:
    return bundled_dir() / "module-4.toml"


def read(path: Union[str, Path]) -> dict:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise PackError([f"{p}: not valid TOML: {e}"]) from None
    except RecursionError:
        raise PackError([f"{p}: not a lab pack: nested too deeply"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise PackError([f"{p}: cannot read: {getattr(e, 'strerror', None) or e}"]) from None


def validate(data: dict, path: Union[str, Path], model: type[BaseModel] = Pack):
    try:
        return model.model_validate(data)
    except ValidationError as e:
        # A misspelt key explains the "missing" one next to it: name it first.
        problems = sorted(_explain(Path(path), model, e), key=lambda line: "unknown key" not in line)
        raise PackError(problems) from None
    except RecursionError:
        raise PackError([f"{path}: not a lab pack: nested too deeply"]) from None
