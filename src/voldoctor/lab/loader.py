"""Loading lab packs: the module's own by default, any TA's by file, each
checked against its own examples; and the `check --lab` profile, which is a
pack's image, port, volume and path (or a bare file of just those)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from voldoctor.lab.examples import disagreements
from voldoctor.lab.pack import LabProfile, Pack, PackError, default_path, read, validate


def load(path: Union[str, Path, None] = None, *, image: Optional[str] = None, check_examples: bool = True) -> Pack:
    """A pack (the module's own when no path), its examples checked. Raises PackError."""
    p = Path(path) if path else default_path()
    pack = validate(read(p), p)
    if check_examples:
        bad = disagreements(pack)
        if bad:
            raise PackError([f"{p}: examples[{i}]: {why}" for i, why in bad])
    if image:
        pack = pack.model_copy(update={"image": image})
    return pack


def load_profile(path: Optional[str]) -> LabProfile:
    """What `check --lab FILE` reads: a lab pack, or a bare profile (image, port,
    volume, path). Raises ValueError with one line."""
    if not path:
        return LabProfile()
    try:
        data = read(path)
        if {"id", "title", "steps"} & set(data):
            return load(path).profile
        return validate(data, path, LabProfile)
    except PackError as e:
        raise ValueError(e.problems[0]) from None
