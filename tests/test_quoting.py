"""Fix lines carry names and paths from the daemon. Pasted into a POSIX shell,
a line must run exactly the command meant, whatever those values hold."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import fuzz
from voldoctor import engine, rules, shellquote
from voldoctor.facts import FACTS
from voldoctor.rules import TEMPLATE_RE

RS = rules.load()
HOSTILE = [
    "My Project/data",
    "inj;touch PWNED;#",
    "$(touch PWNED)",
    "`touch PWNED`",
    "it's \"quoted\"",
    "a'; touch PWNED; echo '",
    "new\nline",
    "tab\there & done",
    "dön-ünïcode😀",
    "%s %d \\n \\",
]
TOOLS = ["docker", "sudo", "mkdir", "ls", "chown", "touch", "id", "newgrp", "rm", "cp", "cat", "stat", "df", "echo",
         "sh", "chmod", "usermod", "systemctl", "journalctl", "lsof", "ss", "du", "find", "tar"]

# A stand-in for each tool: logs its name and arguments (each NUL-terminated,
# after their count) and, for `... sh -c SCRIPT ...` (docker run IMAGE sh -c),
# runs SCRIPT with the real /bin/sh. Plain sh, so a pasted line costs no
# interpreter start-up per program it calls.
FAKE = r'''#!/bin/sh
{ printf '%s\0' "$#" "${0##*/}" "$@"; } >> "$FAKE_LOG"
while [ $# -ge 3 ]; do
    if [ "$1" = sh ] && [ "$2" = -c ]; then
        /bin/sh -c "$3"
        break
    fi
    if [ "$1" = --entrypoint ] && [ "$2" = sh ]; then  # --entrypoint sh IMAGE -c SCRIPT
        shift 2
        while [ $# -ge 2 ] && [ "$1" != -c ]; do shift; done
        if [ "$1" = -c ] && [ $# -ge 2 ]; then
            /bin/sh -c "$2"
        fi
        break
    fi
    shift
done
'''


@pytest.fixture(scope="module")
def fake_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("fakebin")
    for t in TOOLS:
        p = d / t
        p.write_text(FAKE)
        p.chmod(0o755)
    return d


def _calls(log: bytes) -> list[list[str]]:
    fields = [f.decode("utf-8", "surrogateescape") for f in log.split(b"\0")[:-1]]
    calls = []
    while fields:
        n = int(fields[0])
        calls.append(fields[1:n + 2])
        fields = fields[n + 2:]
    return calls


def command_part(line: str) -> str:
    """The command in a fix line: after the prose and its ': ', before a '   (' note."""
    head = line.split("   (")[0]
    return head.split(": ", 1)[1] if ": " in head else head


def paste(cmd: str, fake_path: Path, cwd: Path) -> list[list[str]]:
    log = cwd / "calls.log"
    log.write_bytes(b"")
    env = {"PATH": str(fake_path), "FAKE_LOG": str(log), "HOME": str(cwd)}
    subprocess.run(["/bin/sh", "-c", cmd], cwd=cwd, env=env, capture_output=True, timeout=20)
    return _calls(log.read_bytes())


def _cases():
    """(rule, fix template, facts) for every fix line that quotes a string fact,
    with every such fact set to each hostile value, where the rule still fires."""
    out = []
    for r in RS.rules.values():
        fires = next((e for e in r.examples if e.expect == "fires"), None)
        if fires is None:
            continue
        for t in r.fix_texts:
            names = [n for n in TEMPLATE_RE.findall(t) if FACTS[n].type == "str"]
            if not names:
                continue
            for i, value in enumerate(HOSTILE):
                facts = dict(fires.facts)
                for n in names:
                    facts[n] = value
                if r.fires(facts):
                    out.append(pytest.param(r, t, facts, value, id=f"{r.id}-{r.fix_texts.index(t)}-{i}"))
    return out


CASES = _cases()


def test_cases_cover_the_catalogue():
    rule_ids = {c.values[0].id for c in CASES}
    assert len(rule_ids) >= 15, sorted(rule_ids)


@pytest.mark.parametrize("rule,template,facts,value", CASES)
def test_pasted_fix_runs_exactly_what_was_meant(rule, template, facts, value, fake_path, tmp_path):
    line = engine.fill_command(template, facts)
    calls = paste(command_part(line), fake_path, tmp_path)
    assert not list(tmp_path.glob("PWNED*")), line
    assert not any(c[0] == "touch" and "PWNED" in c[1:] for c in calls), (line, calls)
    # A value in the command reaches a program whole, as (part of) one argument.
    cmd = command_part(template)
    if cmd.split(" ", 1)[0] in TOOLS and TEMPLATE_RE.search(cmd):
        args = [a for c in calls for a in c[1:]]
        lists = any(FACTS[n].words for n in TEMPLATE_RE.findall(cmd))
        for item in (value.split() if lists else [value]):  # a list fact: each item its own word
            assert any(item in a for a in args), (line, calls)


@pytest.mark.parametrize("value", HOSTILE + ["", "-", "plain-name_1.2", "x" * 300, "\x1b[31mred"])
def test_one_word_reads_back_as_itself(value, tmp_path):
    q = shellquote.word(value)
    assert "\n" not in q and "\x1b" not in q  # fits on one line, prints no escape sequence
    out = subprocess.run(["/bin/sh", "-c", f"printf '%s' {q}"], capture_output=True, timeout=10).stdout
    assert out.decode() == value


@pytest.mark.parametrize("value", HOSTILE)
def test_a_word_inside_sh_c_reads_back_as_itself(value):
    q = shellquote.nested(shellquote.word(value))
    out = subprocess.run(["/bin/sh", "-c", f"sh -c 'printf %s {q}'"], capture_output=True, timeout=10).stdout
    assert out.decode() == value


@pytest.mark.parametrize("value", HOSTILE)
def test_an_argument_list_reads_back_item_by_item(value):
    """A whole command built from a container's config (argv facts): each item
    one word, whatever it holds, also inside sh -c."""
    argv = ["printf", "%s|", value, "--name", value]
    out = subprocess.run(["/bin/sh", "-c", engine.fill_command("{mount.rerun_rw}", {"mount.rerun_rw": argv})],
                         capture_output=True, timeout=10).stdout.decode()
    assert out == f"{value}|--name|{value}|"


def test_lists_are_one_word_per_item():
    assert shellquote.words("web old;web") == "web 'old;web'"


HOSTILE_CHARS = st.text(alphabet=st.sampled_from(list("ab /.-_'\"`$;&|<>(){}[]\\*?!#~%\n\t\r\x1bé😀")), min_size=1,
                        max_size=24).filter(lambda v: not v.endswith("\n"))


@fuzz(150)
@given(HOSTILE_CHARS)
def test_fuzzed_names_read_back_through_sh_and_sh_c(value):
    plain = shellquote.word(value)
    inner = shellquote.nested(plain)
    script = f"printf '%s|' {plain}; sh -c 'printf %s {inner}'"
    out = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=10).stdout.decode()
    assert out == value + "|" + value


@pytest.mark.parametrize("value", HOSTILE)
def test_a_stop_and_remove_pair_runs_two_commands_whatever_the_name(value, fake_path, tmp_path):
    """container.stop_rm is 'docker stop NAME && docker rm NAME': only voldoctor's own '&&' is
    left unquoted (shellquote.Op), a name that holds '&&' or ';' stays one word."""
    from voldoctor.shellquote import AND, Op

    line = engine.fill_command("Recreate it: {container.stop_rm} && docker ps",
                               {"container.stop_rm": ["docker", "stop", value, AND, "docker", "rm", value]})
    calls = paste(command_part(line), fake_path, tmp_path)
    assert not list(tmp_path.glob("PWNED*")), line
    assert calls[:2] == [["docker", "stop", value], ["docker", "rm", value]], (line, calls)
    with pytest.raises(ValueError):
        Op("; rm -rf /")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_path_below_the_current_folder_reads_back_as_itself(value, tmp_path):
    """"$(pwd)"/VALUE: the shell expands the folder, the learner's part stays one word."""
    q = shellquote.word(shellquote.Under(value, "$(pwd)"))
    out = subprocess.run(["/bin/sh", "-c", f"printf '%s' {q}"], cwd=tmp_path, capture_output=True, timeout=10).stdout
    assert out.decode() == f"{tmp_path}/{value}"
