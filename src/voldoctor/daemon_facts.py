"""Pure helpers shared by the collector and the probes (no docker import)."""

from __future__ import annotations

import os
import re
import socket
import uuid
from typing import Optional

HELPER_PREFERENCE = ("busybox", "alpine", "debian", "ubuntu")


def helper_image(images) -> Optional[str]:
    """A local image to run throwaway helper containers with (never pulled)."""
    tags = [t for i in (images or ()) for t in i.tags]

    def name(t: str) -> str:
        return t.split(":")[0].rsplit("/", 1)[-1]

    for pref in HELPER_PREFERENCE:
        for exact in (True, False):
            for t in sorted(tags, key=len):
                if (name(t) == pref) if exact else (pref in name(t)):
                    return t
    return tags[0] if tags else None


PROBE_LABEL = "io.voldoctor.probe"
PROBE_PREFIX = "voldoctor-probe-"
# Exactly the names voldoctor gives: the prefix and 10 (volumes) or 12 (containers) hex digits.
PROBE_NAME = re.compile(r"voldoctor-probe-[0-9a-f]{10}(?:[0-9a-f]{2})?")


def probe_name(digits: int = 12) -> str:
    return PROBE_PREFIX + uuid.uuid4().hex[:digits]


def provably_ours(name: str, labels: dict) -> bool:
    """Made by voldoctor, as far as anyone can tell from outside: our exact name
    shape AND our labels. Labels alone prove nothing (images copy them, anyone
    can type them); a name alone proves nothing either."""
    return (bool(PROBE_NAME.fullmatch(name.lstrip("/"))) and labels.get(PROBE_LABEL) == "1"
            and PROBE_LABEL + ".pid" in labels and PROBE_LABEL + ".host" in labels)


def probe_labels() -> dict[str, str]:
    """Labels on every object voldoctor makes: the marker, and who made it, so
    a later run can tell the leftovers of a dead run from a live one's."""
    return {PROBE_LABEL: "1", PROBE_LABEL + ".pid": str(os.getpid()), PROBE_LABEL + ".host": socket.gethostname()}


def owner_gone(labels: dict) -> bool:
    """The run that made this object is known to be dead (same machine, no such process)."""
    if labels.get(PROBE_LABEL + ".host") != socket.gethostname():
        return False
    try:
        pid = int(labels.get(PROBE_LABEL + ".pid", ""))
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
