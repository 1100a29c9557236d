"""Facts about a pasted docker command and each mount it writes."""

from __future__ import annotations

import posixpath
import shlex
from typing import Optional

from voldoctor.commandline import ParsedCommand
from voldoctor.facts.base import Fact
from voldoctor.state import Image

SUBJECT = "command"
DECLARED = [
    Fact("cmd.kind", "str", "the pasted command: run, create, volume-create, volume-rm, volume-inspect, container-rm"),
    Fact("cmd.text", "str", "the pasted command"),
    Fact("cmd.image", "str", "the image the pasted command runs"),
    Fact("cmd.rm", "bool", "the command removes the container when it stops (--rm), or rm -v"),
    Fact("cmd.user", "str", "the --user of the pasted command"),
    Fact("cmd.slip", "str", "a slip in how the command is typed that docker would misread (a space for ':', "
         "'rum' for 'run', ';' in -p); several joined by '; '"),
    Fact("cmd.corrected", "argv", "the whole command as meant, when it has a slip"),
    Fact("cmd.entrypoint", "str", "the ENTRYPOINT of the image the command runs (when the image is here and has one)",
         "images"),
    Fact("cmd.shell_to_entrypoint", "bool", "the words after the image start with a shell (sh -c ...), which the "
         "image's ENTRYPOINT receives as arguments instead of running it", "images"),
    Fact("cmd.after_image", "str", "the words after the image in the command (its command, or its ENTRYPOINT's "
         "arguments)"),
    Fact("cmd.with_entrypoint", "argv", "the command with --entrypoint set to that shell, so the shell runs", "images"),
]

SHELLS = frozenset("sh bash ash dash zsh".split())
# ENTRYPOINTs that run the command they are given (entrypoint scripts end with exec "$@", init shims):
# the words after the image are then a command after all.
RUNS_ITS_ARGS = frozenset("tini dumb-init gosu su-exec docker-init init s6-svscan env".split())


def passes_through(ep: tuple[str, ...]) -> bool:
    base = posixpath.basename(ep[0])
    return base in SHELLS or base in RUNS_ITS_ARGS or base.endswith(".sh") or "entrypoint" in base


def _with_entrypoint(cmd: ParsedCommand) -> list[str]:
    """The command with --entrypoint SHELL before the image and the shell word gone."""
    argv = list(cmd.argv)
    at = len(argv) - len(cmd.args) - 1  # the image
    at -= 1 if argv[at - 1] == "--" else 0
    return argv[:at] + ["--entrypoint", cmd.args[0]] + argv[at:len(argv) - len(cmd.args)] + list(cmd.args[1:])


def produce(cmd: ParsedCommand, image: Optional[Image] = None) -> dict:
    ep = image.entrypoint if image is not None else ()
    shell = bool(ep and cmd.args and posixpath.basename(cmd.args[0]) in SHELLS and not passes_through(ep)
                 and not any(a == "--entrypoint" or a.startswith("--entrypoint=") for a in cmd.argv))
    return {"cmd.entrypoint": " ".join(ep) or None, "cmd.shell_to_entrypoint": shell if ep else None,
            "cmd.with_entrypoint": _with_entrypoint(cmd) if shell else None,
            "cmd.after_image": shlex.join(cmd.args) or None,
            "cmd.kind": cmd.kind, "cmd.text": cmd.raw, "cmd.image": cmd.image or None, "cmd.rm": cmd.rm,
            "cmd.user": cmd.user or None, "cmd.slip": "; ".join(cmd.slips) or None,
            "cmd.corrected": list(cmd.corrected) or None}
