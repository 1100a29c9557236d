"""Rules as data: every rule's own examples, the schema, the loader's errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from voldoctor import regexsafe, rules

ROOT = Path(__file__).resolve().parent.parent
RULES = rules.load()
ALL_RULES = sorted(RULES.rules.values(), key=lambda r: r.id)


def test_bundled_rules_carry_two_examples_of_each_kind():
    """The loader needs one of each and checks that every example agrees
    with its rule; the bundled rules hold themselves to two of each."""
    few = {r.id: sorted(e.expect for e in r.examples) for r in ALL_RULES
           if min(sum(e.expect == k for e in r.examples) for k in ("fires", "quiet")) < 2}
    assert few == {}


def test_contract_ids_exist():
    for sid in ("daemon-unreachable", "volume-not-found", "permission-denied", "data-not-persisting"):
        assert sid in RULES.symptoms
    for rid in ("daemon-not-running", "daemon-socket-permission", "volume-missing", "volume-name-typo",
                "uid-mismatch", "mounted-read-only", "mount-path-mismatch", "container-without-volume",
                "anonymous-volume"):
        assert rid in RULES.rules


def _copy_rules(tmp_path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(rules.bundled_rules_dir(), d)
    return d


def test_typo_in_key_names_file_field_and_suggestion(tmp_path, cli):
    d = _copy_rules(tmp_path)
    p = d / "volume-missing.toml"
    p.write_text(p.read_text().replace("severity =", "severty ="))
    code, out, _ = cli("rules", "lint", str(d))
    assert code == 2
    assert f"{p}: severty: unknown key (did you mean 'severity'?)" in out
    assert f"{p}: severity: missing" in out


def test_typo_in_nested_key(tmp_path):
    d = _copy_rules(tmp_path)
    p = d / "uid-mismatch.toml"
    p.write_text(p.read_text().replace('fact = "mount.writable"', 'fakt = "mount.writable"', 1))
    with pytest.raises(rules.RulesError) as e:
        rules.load([d], bundled=False)
    assert any("when[1].fakt: unknown key (did you mean 'fact'?)" in x for x in e.value.problems)


def test_unknown_fact_is_suggested(tmp_path):
    d = _copy_rules(tmp_path)
    p = d / "mounted-read-only.toml"
    p.write_text(p.read_text().replace('fact = "mount.rw"', 'fact = "mount.rv"'))
    with pytest.raises(rules.RulesError) as e:
        rules.load([d], bundled=False)
    assert any("unknown fact 'mount.rv' (did you mean 'mount.rw'?)" in x for x in e.value.problems)


def test_rule_needs_both_kinds_of_example(tmp_path):
    d = _copy_rules(tmp_path)
    p = d / "volume-missing.toml"
    text = p.read_text()
    text = re.sub(r'\[\[examples\]\][^\[]*expect = "quiet"\n?', "", text)
    p.write_text(text)
    with pytest.raises(rules.RulesError) as e:
        rules.load([d], bundled=False)
    assert any("one that stays quiet" in x and "volume-missing.toml" in x for x in e.value.problems)


def test_contradicting_example_is_an_error(tmp_path):
    d = _copy_rules(tmp_path)
    p = d / "mounted-read-only.toml"
    p.write_text(p.read_text().replace('facts = { "mount.rw" = true }\nexpect = "quiet"',
                                       'facts = { "mount.rw" = true }\nexpect = "fires"'))
    with pytest.raises(rules.RulesError) as e:
        rules.load([d], bundled=False)
    assert any("expects 'fires' but the rule is 'quiet'" in x for x in e.value.problems)


def test_malformed_toml_is_one_line(tmp_path, cli):
    d = _copy_rules(tmp_path)
    (d / "volume-missing.toml").write_text("id = \n")
    code, out, _ = cli("rules", "lint", str(d))
    assert code == 2 and "volume-missing.toml: not valid TOML" in out


def test_id_must_match_file(tmp_path):
    d = _copy_rules(tmp_path)
    shutil.move(d / "volume-missing.toml", d / "volume-gone.toml")
    with pytest.raises(rules.RulesError) as e:
        rules.load([d], bundled=False)
    assert any("must equal the file name 'volume-gone'" in x for x in e.value.problems)


def test_user_rule_overrides_bundled(tmp_path, cli, monkeypatch):
    d = tmp_path / "mine"
    d.mkdir()
    src = (rules.bundled_rules_dir() / "volume-missing.toml").read_text()
    (d / "volume-missing.toml").write_text(src.replace('title = "The volume does not exist"',
                                                       'title = "Our course: the volume is not there"'))
    code, out, _ = cli("rules", "list", "--rules-dir", str(d))
    assert code == 0
    assert "Our course: the volume is not there" in out and "replaces the bundled one" in out
    monkeypatch.setenv("VOLDOCTOR_RULES_PATH", str(d))
    code, out, _ = cli("rules", "show", "volume-missing")
    assert "replaces the bundled rule" in out


def test_rules_lint_bundled_ok(cli):
    code, out, _ = cli("rules", "lint")
    assert code == 0 and out.startswith("ok:")


def test_rules_show_unknown_suggests(cli):
    code, out, err = cli("rules", "show", "uid-mismatc")
    assert code == 2 and "did you mean 'uid-mismatch'" in err


def test_template_naming_an_unknown_fact_is_an_error(tmp_path, cli):
    d = _copy_rules(tmp_path)
    p = d / "uid-mismatch.toml"
    text = p.read_text()
    assert "{container.uid}" in text
    p.write_text(text.replace("{container.uid}", "{container.uidd}", 1))
    code, out, _ = cli("rules", "lint", str(d))
    assert code == 2
    line = next(x for x in out.splitlines() if "uid-mismatch.toml" in x)
    assert "template names unknown fact 'container.uidd' (did you mean 'container.uid'?)" in line


def test_readme_table_matches_rules():
    """The README's symptom/rule table is kept in step with rules/."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]+) \| ([^|]*) \|$", text, re.M)
    table = {sid: {r.strip(" `") for r in rs.split(",") if r.strip()} for sid, _, rs in rows}
    expect = {sid: {r.id for r in RULES.for_symptom(sid)} for sid in RULES.symptoms}
    assert table == expect


REDOS = ["(a+)+$", "(a|aa)+$", "([a-z]+-?)*$", ".*.*.*x", "(x+x+)+y"]


@pytest.mark.parametrize("pattern", REDOS)
def test_catastrophic_regex_is_rejected_at_lint(pattern, tmp_path, cli):
    """A user rule folder's pattern that backtracks catastrophically never loads."""
    d = tmp_path / "mine" / "symptoms"
    d.mkdir(parents=True)
    (d / "slow.toml").write_text(
        'id = "slow"\ntitle = "A slow one"\nphrases = ["slow"]\n'
        f"[[errors]]\nregex = '{pattern}'\nexample = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaax'\n")
    code, out, _ = cli("rules", "lint", str(tmp_path / "mine"))
    assert code == 2 and "slow.toml" in out and "regex rejected" in out, out
    code, out, err = cli("diagnose", "--offline", "--rules-dir", str(tmp_path / "mine"), "a" * 40 + "!")
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("pattern", [r"no such volume", r"(?:foo|bar)+", r"(?P<path>/[^\s.]+(?:\.[^\s.]+)*)",
                                     r"port \d+ is already allocated", r"(ab|ac)*d"])
def test_ordinary_patterns_are_not_rejected(pattern):
    assert regexsafe.risk(pattern) is None


def test_every_fix_that_removes_a_container_first_keeps_what_it_wrote():
    """A fix line that removes a container to make it again (stop/rm, rm -f) is preceded by
    the line that copies out what the container wrote outside its mounts: a learner who runs
    the lines in order never loses those files to the fix."""
    save = "{container.save_layer}"
    removes = re.compile(r"\{container\.stop_rm\}|docker rm -f \{container\.name\}")
    checked = set()
    for r in RULES.rules.values():
        texts = r.fix_texts
        if any(c.fact in ("container.read_only_root", "path.on_read_only_root") and c.is_ is True for c in r.when):
            continue  # started with --read-only: it cannot have written outside its mounts
        for i, t in enumerate(texts):
            if removes.search(t) and "{container." in t and r.scope in ("container", "mount", "path"):
                assert any(save in x or "docker cp {container.name}:" in x for x in texts[:i]), (r.id, t)
                checked.add(r.id)
    assert len(checked) >= 9, sorted(checked)


def test_what_stops_docker_is_listed_first():
    """A name conflict refuses the command outright: its fix comes before the fix of another
    problem of the same command, whose corrected line would otherwise fail on the name."""
    from voldoctor import engine
    from voldoctor.facts.common import Subject

    cmd = {"cmd.kind": "run", "cmd.text": "docker run --name web app sh -c x", "cmd.image": "app",
           "cmd.shell_to_entrypoint": True, "cmd.entrypoint": "sleep", "cmd.after_image": "sh -c x"}
    name = {"name.wanted": "web", "name.taken_by": "web (c9b382960f3f)", "name.state": "running"}
    picked = [RULES.rules["command-entrypoint-shell"], RULES.rules["name-conflict"]]
    subs = {"command": [Subject("command", "command", cmd)], "daemon": [Subject("daemon", "daemon", name)]}
    got = [d.rule for d in engine.evaluate(picked, subs)]
    assert got == ["name-conflict", "command-entrypoint-shell"], got
    assert RULES.rules["name-conflict"].blocks and not RULES.rules["command-entrypoint-shell"].blocks


def test_parsed_rules_are_current():
    """rules/parsed.json holds every bundled file's data under its current hash (stale, start-up
    parses TOML again): after editing a rule, run python3 scripts/parse_rules.py."""
    import hashlib
    import json

    from voldoctor.rulefiles import read_toml

    folder = ROOT / "rules"
    parsed = json.loads((folder / "parsed.json").read_text())
    files = {p.name: p for p in folder.glob("*.toml")} | {f"symptoms/{p.name}": p for p in folder.glob("symptoms/*.toml")}
    assert set(parsed) == set(files)
    for key, p in files.items():
        assert parsed[key]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest(), key
        assert parsed[key]["data"] == read_toml(p), key


def test_a_changed_rule_file_is_read_from_its_toml(tmp_path):
    """An entry of parsed.json is used only for the very text it was made from."""
    import shutil

    from voldoctor import rules

    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    p = folder / "uid-mismatch.toml"
    p.write_text(p.read_text().replace('title = "', 'title = "Edited: ', 1))
    assert rules.load([folder], bundled=False).rules["uid-mismatch"].title.startswith("Edited: ")
    (folder / "parsed.json").write_text("not json")  # a damaged file is ignored, never an error
    assert rules.load([folder], bundled=False).rules["uid-mismatch"].title.startswith("Edited: ")


def test_sources_name_parts_of_the_module_that_exist():
    """A rule's source that points into Module 4 names a heading, a lab step's title, a
    learning tip or a troubleshooting item that the module's text really has."""
    lines = (ROOT / "tests" / "data" / "module-4-sections.txt").read_text().splitlines()
    names = {x.strip().rstrip("?").lower() for x in lines if x.strip() and not x.startswith("#")}
    checked = 0
    for r in RULES.rules.values():
        for part in r.source.split(";"):
            if "Module 4," not in part:
                continue
            ref = re.sub(r"\(.*?\)", "", part.split("Module 4,", 1)[1])
            for piece in ref.split(":"):
                assert piece.strip().rstrip("?").lower() in names, (r.id, r.source, piece)
                checked += 1
    assert checked >= 30
