"""Pure helpers shared by the collector and the probes (no docker import)."""

from __future__ import annotations

from typing import Optional

HELPER_PREFERENCE = ("busybox", "alpine", "debian", "ubuntu")


def helper_image(images) -> Optional[str]:
    """A local image to run throwaway helper containers with (never pulled)."""
    tags = [t for i in (images or ()) for t in i.tags]
    for pref in HELPER_PREFERENCE:
        for t in tags:
            if t.split(":")[0].rsplit("/", 1)[-1] == pref:
                return t
    return tags[0] if tags else None
