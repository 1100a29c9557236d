"""Facts about a pasted docker command and each mount it writes."""

from __future__ import annotations

from voldoctor.commandline import ParsedCommand
from voldoctor.facts.base import Fact

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
]


def produce(cmd: ParsedCommand) -> dict:
    return {"cmd.kind": cmd.kind, "cmd.text": cmd.raw, "cmd.image": cmd.image or None, "cmd.rm": cmd.rm,
            "cmd.user": cmd.user or None, "cmd.slip": "; ".join(cmd.slips) or None,
            "cmd.corrected": list(cmd.corrected) or None}
