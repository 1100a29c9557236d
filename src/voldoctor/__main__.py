import sys

from voldoctor.cli import main

sys.exit(main())
