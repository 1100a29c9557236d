"""Facts about one named volume: does it exist, close names, who uses it."""

from __future__ import annotations

import re
from typing import Optional

from voldoctor.facts.base import Fact
from voldoctor.daemon_facts import helper_image
from voldoctor.facts.common import holds_data, near_misses, volume_about
from voldoctor.state import DaemonState

SUBJECT = "volume"
DECLARED = [
    Fact("volume.name", "str", "the volume name in question"),
    Fact("volume.exists", "bool", "a volume of that name exists"),
    Fact("volume.near_miss", "str", "the closest existing volume name, if close"),
    Fact("volume.near_misses", "str", "all close existing names, comma separated"),
    Fact("volume.empty", "bool", "the volume exists and holds nothing", "df"),
    Fact("volume.filled_near", "str", "another volume, a letter or two away by name, that holds files", "df"),
    Fact("volume.filled_near_about", "str", "that volume's size, age and who used it", "df"),
    Fact("volume.copy_image", "str", "a local image to run a throwaway copy with (never pulled)", "images"),
    Fact("volume.used_by", "str", "containers that mount it, running or stopped, space separated", words=True),
    Fact("volume.running_by", "str", "those of volume.used_by that are running now, space separated", words=True),
    Fact("volume.about", "str", "its size and age", "df", words=True),
    Fact("volume.valid_name", "bool", "the name is one the local driver accepts"),
    Fact("volume.folder", "str", "an invalid name written like a relative host path (./data, data/in): that path "
         "without its leading './', to follow \"$(pwd)\"/ in -v"),
    Fact("volume.suggested_name", "str", "a valid name close to an invalid one"),
    Fact("volume.mountpoint", "str", "where the daemon keeps its data"),
    Fact("volume.compose_match", "str", "an existing volume that Compose made for this name (PROJECT_NAME)"),
    Fact("volume.owner_uid", "int", "uid owning the volume's data folder, when known"),
    Fact("volume.mode", "str", "permission bits of the volume's data folder, octal, when known"),
]


VALID_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def suggest_name(name: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name.strip()).strip("-_.")
    return s or "my-data"


def folder_of(name: str) -> Optional[str]:
    """'./data' or 'src/app' (a relative host path written where a name goes), relative to the current folder."""
    if VALID_VOLUME_NAME.fullmatch(name) or not (name.startswith(".") or "/" in name) or "$" in name:
        return None
    return re.sub(r"^(\./)+", "", name).rstrip("/") or "."


def produce(state: DaemonState, name: str) -> dict:
    vol = state.volume(name)
    names = [v.name for v in state.volumes]
    misses = near_misses(name, names) if vol is None else []
    users = state.volume_users().get(name, [])
    compose = None
    if vol is None:
        compose = next((v.name for v in state.volumes if v.labels.get("com.docker.compose.volume") == name), None) \
            or next((v.name for v in state.volumes if v.name.endswith("_" + name)), None)
    st = state.path_stats.get(vol.mountpoint) if vol else None
    empty = holds_data(state, name) is False if vol is not None else None
    filled = next((n for n in near_misses(name, names) if holds_data(state, n)), None) if empty else None
    return {
        "volume.empty": empty,
        "volume.filled_near": filled,
        "volume.filled_near_about": volume_about(state, filled, users=True) if filled else None,
        "volume.copy_image": helper_image(state.images) if state.images is not None else None,
        "volume.name": name,
        "volume.exists": vol is not None,
        "volume.compose_match": compose,
        "volume.owner_uid": st.uid if st else None,
        "volume.mode": format(st.mode, "o") if st else None,
        "volume.near_miss": misses[0] if misses else None,
        "volume.near_misses": ", ".join(misses) or None,
        "volume.used_by": " ".join(users) or None,
        "volume.running_by": " ".join(c.name for c in state.containers if c.name in users and c.state == "running")
        or None,
        "volume.about": volume_about(state, name) if vol is not None and state.volume_sizes is not None else None,
        "volume.valid_name": bool(VALID_VOLUME_NAME.fullmatch(name)),
        "volume.suggested_name": None if VALID_VOLUME_NAME.fullmatch(name) else suggest_name(name),
        "volume.folder": folder_of(name),
        "volume.mountpoint": vol.mountpoint if vol else None,
    }
