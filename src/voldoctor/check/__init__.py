"""`voldoctor check`: the pre-lab checklist, as a small tree of checks.

A failed parent skips its children and says why. Checks read the daemon's
state once; the few that write (the scratch volume and the round trip) go
through voldoctor.prober, whose objects carry io.voldoctor.probe=1 and are
removed on every path out.
"""

from voldoctor.check import daemon_checks, lab_checks, project_checks  # noqa: F401 - registers the checks, in order
from voldoctor.check.model import CHECKS, STALE_AFTER, Check, Context, LabProfile, Result, check, load_profile
from voldoctor.check.runner import ids, run_checks, selected, summary

__all__ = ["CHECKS", "STALE_AFTER", "Check", "Context", "LabProfile", "Result", "check", "ids", "load_profile",
           "run_checks", "selected", "summary"]
