import signal
import sys

signal.signal(signal.SIGINT, signal.SIG_DFL)  # quiet Ctrl-C while starting; cli.main restores it

from voldoctor._entry import run  # noqa: E402

sys.exit(run())
