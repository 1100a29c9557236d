"""Reports that travel from a learner to a TA, and the class-wide summary.

A report is the daemon state (the same value a snapshot holds), redacted,
plus what voldoctor found and, from the REPL, the conversation. Redaction is
on by default and covers every part (redact.py: secret labels, settings,
flags, URL credentials, token shapes). With --anonymize, user names, host
names and home-folder names are masked too, the same name always to the same
mask, so a replay still lines up.
"""

from __future__ import annotations

import json
import socket
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from voldoctor import __version__, engine
from voldoctor.facts.common import _size
from voldoctor.redact import redact_state, redact_text, walk
from voldoctor.render import diagnosis_json, md_cell, safe
from voldoctor.rules import RuleSet
from voldoctor.state import DaemonState, SnapshotError, loads

REPORT_VERSION = 1


def build(state: DaemonState, rs: RuleSet, *, anonymize: bool = False,
          conversation: Optional[list[tuple]] = None, lab: Optional[dict] = None, project=None) -> dict:
    checkup = engine.answer("", rs, lambda plan: state)
    findings = walk([diagnosis_json(d) for d in checkup.diagnoses], redact_text)
    if project is not None:  # the project's files, crossed with the same state
        pa = engine.answer("", rs, lambda plan: state, project=project)
        findings += walk([diagnosis_json(d) for d in pa.diagnoses if d.rule not in {f["rule"] for f in findings}
                          or d.subject not in {f["subject"] for f in findings}], redact_text)
    convo = [{"you": redact_text(t[0]), "voldoctor": redact_text(t[1]), "rules": list(t[2]) if len(t) > 2 else []}
             for t in (conversation or [])]
    from voldoctor.lab.classwide import progress_json

    lab = walk(progress_json(state, rs, lab), redact_text)
    data, an = redact_state(json.loads(state.model_dump_json()), anonymize, also=[findings, convo, lab])
    machine = redact_text(state.info.name or socket.gethostname())
    rep = {
        "report_version": REPORT_VERSION,
        "voldoctor": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "anonymized": anonymize,
        "findings": findings,
        "conversation": convo,
        "lab": lab,
        "state": data,
    }
    if an is not None:
        rep["machine"] = an.apply(machine)
        rep["findings"] = walk(rep["findings"], an.apply)
        rep["conversation"] = walk(rep["conversation"], an.apply)
        rep["lab"] = walk(rep["lab"], an.apply)
    return rep


def load(path: str) -> tuple[dict, DaemonState]:
    """A report (or a bare snapshot) and the state it carries."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SnapshotError(f"{p}: cannot read: {e}") from None
    st = loads(text, str(p))
    data = json.loads(text)
    rv = data.get("report_version")
    if rv is not None and rv != REPORT_VERSION:
        raise SnapshotError(f"{p}: report version {rv!r} is not one this voldoctor reads (it reads {REPORT_VERSION})")
    return data, st


# ------------------------------------------------------------ markdown


def _cell(v: Any) -> str:
    return md_cell(v).replace("`", "'")


def markdown(rep: dict) -> str:
    st = rep["state"]
    info = st.get("info") or {}
    ep = (st.get("endpoint") or {}).get("url", "?")
    out = [f"# voldoctor report: {_cell(rep['machine'])}", ""]
    kind = "Docker Desktop" if info.get("desktop") else (info.get("os") or "?")
    out.append(f"Docker {_cell(info.get('server_version') or '?')} on {_cell(kind)}"
               + (" (rootless)" if info.get("rootless") else "")
               + f", endpoint `{_cell(ep)}`, {len(st.get('volumes', []))} volumes, "
               f"{len(st.get('containers', []))} containers. voldoctor {rep['voldoctor']}, {rep['created']}.")
    if not st.get("reachable"):
        err = st.get("error") or {}
        out.append(f"\n**The daemon was not reachable:** {_cell(err.get('detail', '?'))}")
    out += ["", "## Findings", ""]
    if rep["findings"]:
        for f in rep["findings"]:
            out.append(f"- **{_cell(f['title'])}** (`{f['rule']}`, {f['severity']}): {_cell(f['message'])}")
            for x in f["fix"]:
                out.append(f"  - `{_cell(x)}`")
    else:
        out.append("No problems found in a full check-up.")
    if rep.get("conversation"):
        out += ["", "## Conversation", ""]
        for turn in rep["conversation"]:
            out.append(f"> **learner:** {_cell(turn['you'])}")
            out.append("")
            out += ["    " + safe(line) for line in turn["voldoctor"].splitlines()]
            out.append("")
    out += ["", "## Volumes", "", "| name | driver | size | mountpoint | owner:group mode |", "|---|---|---|---|---|"]
    stats = st.get("path_stats") or {}
    sizes = st.get("volume_sizes") or {}
    for v in st.get("volumes", []):
        ps = stats.get(v.get("mountpoint", ""))
        own = f"{ps['uid']}:{ps['gid']} {ps['mode']:o}" if ps else "?"
        size = sizes.get(v["name"])
        shown = _size(size, zero="0 B (empty)") if isinstance(size, int) and size >= 0 else "?"
        out.append(f"| {_cell(v['name'])} | {_cell(v.get('driver', ''))} | {shown} | {_cell(v.get('mountpoint', ''))} "
                   f"| {own} |")
    out += ["", "## Containers", "", "| name | image | state | user | mounts |", "|---|---|---|---|---|"]
    for c in st.get("containers", []):
        d = c.get("detail") or {}
        user = (d.get("user") or "root") if d else "?"
        ms = "; ".join(f"{m.get('name') or m.get('source')} → {m['destination']}" + ("" if m.get("rw", True) else " (ro)")
                       for m in c.get("mounts", [])) or "none"
        out.append(f"| {_cell(c['name'])} | {_cell(c['image'])} | {_cell(c.get('state', ''))} | {_cell(user)} | "
                   f"{_cell(ms)} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------ class summary


def summarize(paths: list[str], rs: RuleSet) -> dict:
    """Which rules fire on how many machines, worst first."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    meta: dict[str, dict] = {}
    from voldoctor.lab.classwide import progress_json, stuck

    machines = []
    problems = []
    labs: list[tuple[str, dict]] = []
    for p in paths:
        try:
            data, st = load(p)
        except SnapshotError as e:
            problems.append(str(e))
            continue
        name = str(data.get("machine") or Path(p).stem)
        machines.append(name)
        labs.append((name, data.get("lab") if isinstance(data.get("lab"), dict) else progress_json(st, rs)))
        a = engine.answer("", rs, lambda plan, st=st: st)
        for rid in dict.fromkeys(d.rule for d in a.diagnoses):
            by_rule[rid].append(name)
            d = next(x for x in a.diagnoses if x.rule == rid)
            meta.setdefault(rid, {"title": d.title, "severity": d.severity})
    order = {"error": 0, "warning": 1, "info": 2}
    rows = sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), order[meta[kv[0]]["severity"]], kv[0]))
    return {
        "version": 1,
        "machines": len(machines),
        "rules": [{"rule": rid, "title": meta[rid]["title"], "severity": meta[rid]["severity"],
                   "count": len(names), "machines": sorted(names)} for rid, names in rows],
        "stuck": stuck(labs),
        "unreadable": problems,
    }


def summary_text(s: dict) -> str:
    out = [f"{s['machines']} machine(s) read." + (f" {len(s['unreadable'])} file(s) could not be read." if s["unreadable"] else "")]
    if not s["rules"]:
        out.append("No rule fires on any machine.")
    for r in s["rules"]:
        names = ", ".join(safe(n) for n in r["machines"][:8]) + (" ..." if len(r["machines"]) > 8 else "")
        out.append(f"{r['count']:>4}  {r['rule']:<26} {r['severity']:<7} {safe(r['title'])}  [{names}]")
    from voldoctor.lab.classwide import stuck_lines

    out += stuck_lines(s.get("stuck", []))
    for p in s["unreadable"]:
        out.append(f"  unreadable: {safe(p)}")
    return "\n".join(out) + "\n"
