"""Exit statuses, one list for every command (imports nothing)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # nothing wrong found (check: ready for the lab)
    PROBLEMS = 1  # an error or warning was found (check: something failed)
    USAGE = 2  # bad input: arguments, rules, snapshots, files
    DAEMON = 3  # the daemon could not be asked
    INTERRUPTED = 130  # Ctrl-C


def interrupted(e: BaseException) -> bool:
    """A Ctrl-C, or one that a library turned into an error of its own: pydantic-core
    reports an interrupt that lands while it builds a validator as a SchemaError
    naming it."""
    for _ in range(10):  # the cause/context chain, not followed forever
        if isinstance(e, KeyboardInterrupt) or (type(e).__name__ == "SchemaError" and "KeyboardInterrupt" in str(e)):
            return True
        nxt = e.__cause__ or e.__context__
        if nxt is None:
            return False
        e = nxt
    return False
