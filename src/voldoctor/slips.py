"""Slips of the pen in a pasted docker command that docker would misread:
a verb a letter off ('rum'), a space or nothing where a -v value needs its
':', a ';' or ',' where -p needs one. Pure; commandline.py uses these to read
the command as meant and to write it out corrected."""

from __future__ import annotations

import re
from typing import Optional

VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# Verbs mistyped by a letter: docker refuses them ("'rum' is not a docker command").
VERB_SLIPS = {"rum": "run", "rnu": "run", "urn": "run", "runn": "run", "rn": "run", "ru": "run", "eun": "run",
              "craete": "create", "creat": "create", "crate": "create", "volum": "volume",
              "voume": "volume", "contianer": "container", "conatiner": "container", "containr": "container"}
PORT_SLIP = re.compile(r"^(\d{1,5})[;,.'](\d{1,5})(/(?:tcp|udp|sctp))?$")


def mount_slip(v: str, nxt: Optional[str]) -> Optional[tuple[str, str, bool]]:
    """A -v value with its ':' left out: (the value meant, what went wrong, whether
    the next word was the container path)."""
    if ":" in v or v.startswith("/") or not v:
        return None
    head, _, rest = v.partition("/")
    if nxt is not None and nxt.startswith("/") and not rest and VOLUME_NAME.fullmatch(v):
        return (f"{v}:{nxt}", f"'-v {v} {nxt}' has a space where the ':' goes: docker takes {v} alone as the "
                f"mount and {nxt} as the image to run (then tries 'docker pull {nxt}')", True)
    if rest and VOLUME_NAME.fullmatch(head) and not head.startswith("."):
        return (f"{head}:/{rest}", f"'-v {v}' has no ':' between the volume name and the container path: "
                f"docker reads it as one anonymous volume at /{v}", False)
    return None
