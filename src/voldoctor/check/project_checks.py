"""The learner's project files, as one check."""

from __future__ import annotations

from voldoctor.check.model import Context, Result, check


@check("project", "Project files")
def _project_files(ctx: Context) -> Result:
    """The project rules over the compose file, .env and Dockerfile (crossed with the daemon when it answered)."""
    if ctx.project is None:
        return Result("pass", "no project here: no compose file or Dockerfile (--project DIR names one)")
    from voldoctor import engine, probes

    st = ctx.state if ctx.state is not None and ctx.state.reachable else None
    diags = engine.evaluate([r for r in ctx.rules.rules.values() if r.scope == "project"],
                            {"project": probes.project_subjects(ctx.project, st, None)})
    bad = [d for d in diags if d.severity in ("error", "warning")]
    if not bad:
        return Result("pass", f"{ctx.project.compose_file or ctx.project.dir}: nothing to fix"
                      + ("" if st else " (read without the daemon)"))
    status = "fail" if any(d.severity == "error" for d in bad) else "warn"
    return Result(status, "; ".join(f"{d.title} [{d.rule}]" for d in bad), [d.fix[0] for d in bad])
