"""Answers as text or JSON. The only place that shapes output for people."""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Optional

from voldoctor import commandline, effects, shellquote
from voldoctor.engine import Answer, Diagnosis
from voldoctor.engine import show as engine_show
from voldoctor.rules import Rule, RuleSet, Symptom

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: Any) -> str:
    """Names from the daemon are data: control characters (ANSI escapes,
    newlines in a name, bidi overrides) are shown escaped, never obeyed."""
    s = str(text)
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), s)


def md_cell(text: Any) -> str:
    """safe(), and a '|' that cannot end a markdown table cell."""
    return safe(text).replace("|", "\\|")


def short_volume(name: str) -> str:
    """A volume name for a list: anonymous ones (64 hex digits) cut to 12, like an id; others in full."""
    return name[:12] if len(name) == 64 and all(c in "0123456789abcdef" for c in name) else name


def unicode_ok(stream=None) -> bool:
    enc = (getattr(stream or sys.stdout, "encoding", None) or "").lower()
    return enc.replace("-", "") in ("utf8", "utf16", "utf32")


MARKS = {"error": ("✗", "x"), "warning": ("!", "!"), "info": ("i", "i")}


def holdings(st) -> str:
    """What a daemon holds, for every banner and status line: 'N volumes, M containers'."""
    return f"{plural(len(st.volumes), 'volume')}, {plural(len(st.containers), 'container')}"


def mark(severity: str, unicode: bool) -> str:
    return MARKS[severity][0 if unicode else 1]


# ------------------------------------------------------------ diagnose


def daemon_json(a: Answer) -> dict:
    st = a.state
    if st is None:
        return {"endpoint": None, "reachable": False, "version": None, "offline": True}
    d = {"endpoint": st.endpoint.url, "reachable": st.reachable,
         "version": st.info.server_version or None, "context": st.endpoint.context,
         "replay": st.replay, "requests": st.requests}
    if st.error:
        d["error"] = {"kind": st.error.kind, "detail": st.error.detail}
    return d


def diagnosis_json(d: Diagnosis) -> dict:
    return {"rule": d.rule, "severity": d.severity, "title": d.title, "message": d.message,
            "evidence": d.evidence, "fix": list(d.fix), "source": d.source, "subject": d.subject,
            "why": d.why}


def command_json(cmd) -> Optional[dict]:
    if cmd is None:
        return None
    return {"kind": cmd.kind or None, "image": cmd.image or None, "name": cmd.name or None, "rm": cmd.rm,
            "mounts": [{"spec": m.raw, "type": m.type, "source": m.source or None, "target": m.target or None,
                        "readonly": m.readonly, "problem": m.problem} for m in cmd.mounts],
            "ports": [p for p, _ in cmd.ports if p], "error": cmd.error}


def answer_json(a: Answer) -> dict:
    m = a.match
    return {
        "version": 1,
        "input": a.input,
        "symptom": {"id": m.symptom.id, "title": m.symptom.title, "score": m.symptom.score} if m.symptom else None,
        "matched_by": m.via or None,  # "error", "model", "state" (the daemon decided between candidates), "chosen"
        "candidates": [{"id": c.id, "title": c.title, "score": c.score} for c in m.candidates],
        "other": m.other,
        "entities": {"volumes": list(a.entities.volumes), "containers": list(a.entities.containers),
                     "paths": list(a.entities.paths)},
        "diagnoses": [diagnosis_json(d) for d in a.diagnoses],
        "daemon": daemon_json(a),
        "mentions": {"ports": list(a.entities.ports), "images": list(a.entities.images),
                     "names": list(a.entities.names)},
        "command": command_json(a.command),
        "effects": list(effects.of(a)),
        "deletes": a.deletes.json() if a.deletes is not None else None,
        "project": project_json(a.project),
        "needs": a.needs,
        "notes": list(a.notes),
        "advice": list(a.advice),
        "exit_code": int(a.exit_code),
    }


def project_json(p) -> Optional[dict]:
    if p is None:
        return None
    from voldoctor.compose import ComposeError

    try:
        name = p.name()
    except ComposeError as e:
        name, err = None, str(e)
    else:
        err = None
    return {"dir": p.dir, "compose_file": p.compose_file, "name": name, "name_error": err, "compose": p.flavor,
            "dockerfiles": [d.path for d in p.dockerfiles]}


def to_json(obj: Any, indent: Optional[int] = 2) -> str:
    return json.dumps(obj, indent=indent, ensure_ascii=False, sort_keys=False)


_PATTERN_LINE = re.compile(r"docker [a-z]+ [^()]*\.\.\.")
PATTERN_NOTE = ("(A line below with '...' is a pattern, not a command to paste as it is: put the rest of your own "
                "docker run line where the dots are.)")


_RUN_NAME = re.compile(r"docker run [^|;]*?--name (\S+)")
_ENV_NAME = re.compile(r"\s-e\s+([A-Za-z_][A-Za-z0-9_]*)(?=\s)")  # -e NAME, no value: docker takes it from the shell


def pattern_note(fix: tuple[str, ...]) -> Optional[str]:
    """The note that goes under fix lines when one of them is a pattern to complete,
    not a command to paste as it stands, or passes settings by name only."""
    notes = [PATTERN_NOTE] if any(_PATTERN_LINE.search(x) for x in fix) else []
    names = list(dict.fromkeys(n for x in fix for n in _ENV_NAME.findall(x)))
    if names:
        who = next((m.group(1) for x in fix if (m := _RUN_NAME.search(x))), None)
        look = (f" Before the container is removed, its values are shown by: docker inspect --format "
                f"'{{{{join .Config.Env \"\\n\"}}}}' {shellquote.word(who)}" if who else "")
        notes.append(f"(-e {names[0]} without a value makes docker copy {names[0]} from your own shell; voldoctor "
                     f"never copies setting values, which may be passwords. Set "
                     f"{'them' if len(names) > 1 else 'it'} first, e.g. export {names[0]}=..., or write "
                     f"-e {names[0]}=VALUE in the line.{look})")
    return " ".join(notes) or None


def diagnosis_text(d: Diagnosis, unicode: bool = True, *, why: bool = True) -> list[str]:
    out = [f"{mark(d.severity, unicode)} {safe(d.title)}  [{d.rule}]",
           f"  {safe(d.message)}"]
    if d.evidence:
        ev = ", ".join(f"{k}={_show(v)}" for k, v in d.evidence.items())
        out.append(f"  Evidence: {safe(ev)}")
    out.append("  Fix:")
    if note := pattern_note(d.fix):  # read before the lines are pasted
        out.append(f"    {note}")
    out += [f"    {safe(x)}" for x in d.fix]
    if why and d.why:
        out.append(f"  Why: {safe(d.why)}")
    out.append(f"  See: {safe(d.source)}")
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _show(v: Any) -> str:
    if v is None:
        return "None"
    return "" if isinstance(v, (list, tuple)) and not v else engine_show(v)


NOT_VOLUMES = ("This does not look like a Docker volume problem (it reads like another Docker problem: "
               "networking, images, builds, ...); voldoctor knows volume and persistence problems only.")


CLEAR_ON_DAEMON = ("On the daemon I found nothing wrong that fits any of these. If the trouble is gone, there is "
                   "nothing left to fix; if it is not, say which one it is, with the name or folder it is about.")


FOUND_BESIDE = "On the daemon I found this, which may be what you mean:"
FOUND_IN_FILES = "In the project's files I found this, which may be what you mean:"


def found_beside(a: Answer) -> str:  # where findings beside an open question come from: the daemon, or the files
    return FOUND_BESIDE if a.state is not None and a.state.reachable and not a.offline else FOUND_IN_FILES


def answer_text(a: Answer, unicode: bool = True) -> str:
    m = a.match
    lines: list[str] = []
    st = a.state
    if a.deletes is not None:  # what goes comes first: it is what the learner must not miss
        from voldoctor.deletes import text_lines

        lines += [safe(x) for x in text_lines(a.deletes)]
    if a.project is not None:
        pj = project_json(a.project)
        lines.append(safe(f"Project: {pj['dir']}" + (f", {pj['compose_file']}" if pj["compose_file"] else ", no compose file")
                          + (f", project name {pj['name']}" if pj["name"] else f" ({pj['name_error']})")
                          + (f", {len(pj['dockerfiles'])} Dockerfile(s)" if pj["dockerfiles"] else "") + "."))
    if st is not None and not st.reachable and st.error is not None and st.error.kind == "config-corrupt":
        lines.append(f"Daemon: not asked: its address is unknown while {safe(st.error.endpoint)} is damaged "
                     "(config-corrupt).")
    elif st is not None and not st.reachable:
        lines.append(f"Daemon: {safe(st.endpoint.url)} is not reachable ({st.error.kind if st.error else '?'})"
                     + (" (the address comes from DOCKER_HOST)." if st.endpoint.origin == "DOCKER_HOST" else "."))
        if a.advice and m.symptom is not None:
            lines.append(f"Until it answers, general advice for {safe(m.symptom.id)} (nothing here was checked):")
            lines += [f"  - {safe(x)}" for x in a.advice]
    elif st is not None:
        where = "snapshot of " if st.replay else ""
        lines.append(f"Daemon: {where}{safe(st.endpoint.url)}, Docker {safe(st.info.server_version or '?')}, "
                     f"{holdings(st)}.")
    else:
        lines.append("Offline: no daemon was asked; this is general advice.")
    if m.symptom and m.via == "state":
        lines.append(f"Your words fit more than one problem; on the daemon I found one that fits them "
                     f"({m.symptom.id}).")
    elif m.symptom:
        lines.append(f"Symptom: {safe(m.symptom.title)} ({m.symptom.id}, score {m.symptom.score}).")
    elif a.command is not None and a.command.ok:
        lines.append(f"Your command ({a.command.kind}), " + ("as you ran it:" if commandline.told_after(
            a.input, a.command.raw) else "before you run it:"))
        lines += [f"  - {safe(e)}" for e in effects.of(a)]
    elif a.input.strip() and a.deletes is None:
        if m.other:
            lines.append(NOT_VOLUMES)
            if m.candidates:
                lines.append("If it is about a volume after all, it may be:")
                lines += [f"  {i}. {c.title} ({c.id}, score {c.score})" for i, c in enumerate(m.candidates, 1)]
        elif m.candidates:
            lines.append("I am not sure what the problem is. Did you mean:")
            lines += [f"  {i}. {safe(c.title)} ({c.id}, score {c.score})" for i, c in enumerate(m.candidates, 1)]
            if a.clear_on_daemon:
                lines.append(CLEAR_ON_DAEMON)
            lines.append(f"Ask again in other words, or pick one by its id: voldoctor diagnose --symptom "
                         f"{m.candidates[0].id} ...")
            if any(d.severity != "info" for d in a.diagnoses):
                lines.append(found_beside(a))
        else:
            lines.append("I could not match that to a volume problem I know. Try the error message as Docker printed it.")
    ents = a.entities
    if ents.volumes or ents.containers or ents.paths:
        bits = []
        if ents.volumes:
            bits.append("volume " + ", ".join(ents.volumes))
        if ents.containers:
            bits.append("container " + ", ".join(ents.containers))
        if ents.paths:
            bits.append("path " + ", ".join(ents.paths))
        lines.append(safe("Picked up: " + "; ".join(bits) + "."))
    lines += [safe(n) for n in a.notes]
    if a.needs == "path":
        lines.append("Which folder inside the container holds the data? Name it in the question, "
                     "e.g. \"data in /app/data is gone after docker rm\".")
    elif a.needs:
        lines.append(f"Which {a.needs}? Name it with --{a.needs} NAME.")
        if a.needs == "volume" and st is not None and st.volumes:
            names = [v.name for v in st.volumes][:8]
            lines.append(safe("  Volumes here: " + ", ".join(names)))
    lines.append("")
    if a.diagnoses:
        for d in a.diagnoses:
            lines += diagnosis_text(d, unicode)
            lines.append("")
    elif a.deletes is not None or a.project is not None:
        if a.project is not None and (a.offline or (st is not None and st.reachable)):
            lines.append("Nothing in the project files needs fixing.")
        lines.append("")
    elif a.command is not None and a.command.ok and not m.symptom:
        if a.state is not None and a.state.reachable:
            lines.append("I found nothing in it that would lose data or fail on this daemon.")
        lines.append("")
    elif a.offline or (m.symptom and not a.needs):
        if st is not None and st.reachable and m.symptom:
            lines.append(safe(a.clear_note) or "No problem found in the daemon's state for this symptom.")
        if a.advice:
            lines.append("General advice:")
            lines += [f"  - {safe(x)}" for x in a.advice]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------ rules


def rules_list_text(rs: RuleSet) -> str:
    out = []
    w = max((len(r) for r in rs.rules), default=10)
    for sid, sym in rs.symptoms.items():
        out.append(f"{sid}: {safe(sym.title)}")
        for r in rs.for_symptom(sid):
            tag = f"   (user rule from {safe(rs.origin[r.id])}, replaces the bundled one)" if r.id in rs.overridden else ""
            out.append(f"  {r.id:<{w}}  {r.severity:<7}  {safe(r.title)}{tag}")
    return "\n".join(out) + "\n"


def rules_table_markdown(rs: RuleSet) -> str:
    out = ["| symptom | what the learner sees | rules |", "|---|---|---|"]
    for sid, s in rs.symptoms.items():
        out.append(f"| `{sid}` | {md_cell(s.title)} | " + ", ".join(f"`{r.id}`" for r in rs.for_symptom(sid)) + " |")
    return "\n".join(out) + "\n"


def rule_text(rule: Rule, rs: RuleSet) -> str:
    out = [f"{rule.id}: {safe(rule.title)}",
           f"  severity:  {rule.severity}",
           f"  symptoms:  {', '.join(rule.symptoms)}",
           f"  scope:     {rule.scope}",
           f"  file:      {safe(rs.origin[rule.id])}" + ("  (replaces the bundled rule)" if rule.id in rs.overridden else ""),
           f"  source:    {safe(rule.source)}",
           "  when:"]
    for c in rule.when:
        op = next((k for k in ("is_", "is_not", "in_", "present", "min", "max") if getattr(c, k) is not None))
        val = getattr(c, op)
        out.append(safe(f"    {c.fact} {op.rstrip('_')} "
                        f"{json.dumps(val) if not isinstance(val, tuple) else json.dumps(list(val))}"))
    out += ["  message:", f"    {safe(rule.message)}"]
    if rule.why:
        out += ["  why:", f"    {safe(rule.why)}"]
    out += ["  fix:"] + [f"    {safe(x)}" for x in rule.fix_texts]
    out.append(f"  examples:  {sum(e.expect == 'fires' for e in rule.examples)} fire, "
               f"{sum(e.expect == 'quiet' for e in rule.examples)} stay quiet")
    from voldoctor.facts import FACTS

    out.append("  facts:")
    out += [f"    {n} ({FACTS[n].type}, {FACTS[n].subject}): {FACTS[n].doc}" for n in rule.facts_used if n in FACTS]
    return "\n".join(out) + "\n"


def facts_text() -> str:
    """Every fact a rule may use, by the subject that carries it."""
    from voldoctor.facts import FACTS, PRODUCERS
    from voldoctor.facts.base import CARRIES

    out = []
    for subject, module in PRODUCERS.items():
        also = sorted(CARRIES[subject] - {subject})
        out.append(f"{subject}" + (f"  (also carries the {' and '.join(also)} facts)" if also else "")
                   + f"  [{module.__name__}]")
        for f in module.DECLARED:
            extra = f", costs a '{f.needs}' read" if f.needs else ""
            out.append(f"  {f.name:<28} {FACTS[f.name].type:<4} {f.doc}{extra}")
    return "\n".join(out) + "\n"


def symptom_text(sym: Symptom, rs: RuleSet) -> str:
    out = [f"{sym.id}: {safe(sym.title)}", f"  source: {safe(sym.source)}", "  rules:  " +
           (", ".join(r.id for r in rs.for_symptom(sym.id)) or "(none)"), "  phrases:"]
    out += [f"    {safe(p)}" for p in sym.phrases]
    return "\n".join(out) + "\n"



# ------------------------------------------------------------ check

CHECK_MARKS = {"pass": ("✓", "+"), "warn": ("!", "!"), "fail": ("✗", "x"), "skip": ("-", "-")}
ANSI = {"pass": "\x1b[32m", "warn": "\x1b[33m", "fail": "\x1b[31m", "skip": "\x1b[2m"}


def check_line(c, r, unicode: bool, color: bool) -> str:
    m = CHECK_MARKS[r.status][0 if unicode else 1]
    head = f"[{m}] {c.title}: {safe(r.message)}"
    if color:
        head = f"{ANSI[r.status]}[{m}]\x1b[0m {c.title}: {safe(r.message)}" if r.status != "skip" \
            else f"{ANSI['skip']}[{m}] {c.title}: {safe(r.message)}\x1b[0m"
    lines = [head]
    arrow = "→" if unicode else "->"
    lines += [f"      {arrow} {safe(f)}" for f in r.fix if r.status in ("fail", "warn")]
    return "\n".join(lines)


def check_summary_line(s: dict, seconds: float) -> str:
    parts = [f"{s['pass']} passed", plural(s["warn"], "warning"), f"{s['fail']} failed", f"{s['skip']} skipped"]
    if s["exit_code"] == 0:
        verdict = "ready for the lab" + (" once the warnings above are dealt with or accepted" if s["warn"] else "")
    elif s["fail"] == 0:  # only warnings, and --strict counts them
        verdict = ("not ready yet: with --strict a warning counts as a failure; fix the warnings above, "
                   "or accept them and run without --strict")
    else:
        verdict = "not ready yet: fix what failed above"
    return f"Summary: {', '.join(parts)} in {seconds:.1f}s; {verdict}."


def check_json(results, s: dict, endpoint: Optional[str], replay: bool) -> dict:
    return {
        "version": 1,
        "endpoint": endpoint,
        "replay": replay,
        "checks": [{"id": c.id, "title": c.title, "status": r.status, "message": r.message, "fix": list(r.fix),
                    "duration_ms": r.duration_ms} for c, r in results],
        "summary": s,
    }
