"""The console script's entry: Ctrl-C during start-up ends quietly.

Until the command line is parsed, an interrupt takes the default action (the
process ends, status 130 to the shell) instead of raising KeyboardInterrupt
in the middle of an import; cli.main puts Python's handler back.
"""

import signal
import sys


def run() -> int:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        from voldoctor.cli import main
    except KeyboardInterrupt:  # pragma: no cover - only if a handler was put back early
        sys.stderr.write("voldoctor: interrupted\n")
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
