"""Exit statuses, one list for every command (imports nothing)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # nothing wrong found (check: ready for the lab)
    PROBLEMS = 1  # an error or warning was found (check: something failed)
    USAGE = 2  # bad input: arguments, rules, snapshots, files
    DAEMON = 3  # the daemon could not be asked
    INTERRUPTED = 130  # Ctrl-C
