"""Pure helpers shared by the collector and the probes (no docker import)."""

from __future__ import annotations

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
