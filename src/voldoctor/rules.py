"""Rules and symptoms as data: pydantic models and the loader.

A rule is one TOML file in a rules folder, its stem equal to its id. Symptoms
live in the folder's `symptoms/` subfolder, one file each. The schema is
closed: an unknown key is an error that names the file and field and offers
the closest valid name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from voldoctor import regexsafe
from voldoctor.rulefiles import parsed_of, read_toml, tomllib
from voldoctor.facts import FACTS, scope_of

ID_RE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
TEMPLATE_RE = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)+)\}")
Scalar = Union[bool, int, str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """One test over one fact. Exactly one operator is given."""

    fact: str
    is_: Optional[Scalar] = Field(default=None, alias="is")
    is_not: Optional[Scalar] = None
    in_: Optional[tuple[Scalar, ...]] = Field(default=None, alias="in")
    present: Optional[bool] = None
    min: Optional[int] = None
    max: Optional[int] = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, v: str) -> str:
        if v not in FACTS:
            raise ValueError(f"unknown fact {v!r}{did_you_mean(v, FACTS)}")
        return v

    @model_validator(mode="after")
    def _one_operator(self) -> "Condition":
        ops = [k for k in ("is_", "is_not", "in_", "present", "min", "max") if getattr(self, k) is not None]
        if len(ops) != 1:
            raise ValueError("give exactly one of: is, is_not, in, present, min, max")
        return self

    def holds(self, facts: dict[str, Any]) -> bool:
        v = facts.get(self.fact)
        if self.present is not None:
            return (v is not None) == self.present
        if v is None:
            return False
        if self.is_ is not None:
            return _same(v, self.is_)
        if self.is_not is not None:
            return not _same(v, self.is_not)
        if self.in_ is not None:
            return any(_same(v, x) for x in self.in_)
        if self.min is not None:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= self.min
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v <= self.max


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a fact that is a bool must be compared as a bool.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


class Example(_Model):
    facts: dict[str, Optional[Scalar]]
    expect: Literal["fires", "quiet"]

    @field_validator("facts")
    @classmethod
    def _known_facts(cls, v: dict) -> dict:
        for k in v:
            if k not in FACTS:
                raise ValueError(f"unknown fact {k!r}{did_you_mean(k, FACTS)}")
        return v


class FixLine(_Model):
    """A fix line given only when its conditions hold (say, a port was found free)."""

    line: str = Field(min_length=3)
    when: tuple[Condition, ...] = Field(min_length=1)


class Rule(_Model):
    id: str = Field(pattern=ID_RE)
    title: str = Field(min_length=3)
    symptoms: tuple[str, ...] = Field(min_length=1)
    severity: Literal["error", "warning", "info"]
    when: tuple[Condition, ...] = Field(min_length=1)
    message: str = Field(min_length=3)
    why: str = ""
    fix: tuple[Union[str, FixLine], ...] = Field(min_length=1)
    source: str = Field(min_length=3)
    supersedes: tuple[str, ...] = ()  # rules this one replaces when both fire on the same thing
    reported_only: bool = False  # only when the learner reported the symptom, not for a pasted command alone
    blocks: bool = False  # docker refuses the command until this is fixed: listed first within its severity
    order: int = 0  # among the rules that block, lower first (a name that has to be freed before a corrected run)
    examples: tuple[Example, ...]

    @model_validator(mode="after")
    def _check(self) -> "Rule":
        for text in (self.message, self.why, *self.fix_texts):
            for name in TEMPLATE_RE.findall(text):
                if name not in FACTS:
                    raise ValueError(f"template names unknown fact {name!r}{did_you_mean(name, FACTS)}")
        if scope_of(self.facts_used) is None:
            first: dict[str, str] = {}
            for n in self.facts_used:
                if n in FACTS:
                    first.setdefault(FACTS[n].subject, n)
            raise ValueError("its facts are never on one subject (" + ", ".join(
                f"{n} is about a {subj}" for subj, n in first.items()) + "), so it could never fire; "
                "split it into one rule per subject")
        kinds = {e.expect for e in self.examples}
        if kinds != {"fires", "quiet"}:
            raise ValueError("a rule needs at least one example that fires and one that stays quiet")
        for i, ex in enumerate(self.examples, 1):
            got = "fires" if self.fires(ex.facts) else "quiet"
            if got != ex.expect:
                raise ValueError(f"example {i} expects {ex.expect!r} but the rule is {got!r} on it")
        return self

    def fires(self, facts: dict[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.when)

    @property
    def fix_texts(self) -> list[str]:
        """Every fix line's template, conditional ones included."""
        return [x if isinstance(x, str) else x.line for x in self.fix]

    def fix_for(self, facts: dict[str, Any]) -> list[str]:
        """The fix templates that apply to these facts."""
        return [x if isinstance(x, str) else x.line for x in self.fix
                if isinstance(x, str) or all(c.holds(facts) for c in x.when)]

    @property
    def facts_used(self) -> list[str]:
        names = [c.fact for c in self.when]
        names += [c.fact for x in self.fix if not isinstance(x, str) for c in x.when]
        for text in (self.message, self.why, *self.fix_texts):
            names.extend(TEMPLATE_RE.findall(text))
        return list(dict.fromkeys(names))

    @property
    def scope(self) -> str:
        return scope_of(self.facts_used)


ENTITY_GROUPS = ("volume", "path", "container", "port", "image", "name")


class ErrorPattern(_Model):
    """A regular expression for a real error text; named groups volume,
    path and container are picked up as entities."""

    regex: str
    example: str

    @model_validator(mode="after")
    def _compiles_and_matches(self) -> "ErrorPattern":
        try:
            rx = re.compile(self.regex, re.IGNORECASE)
        except re.error as e:
            raise ValueError(f"regex does not compile: {e}") from None
        why = regexsafe.risk(self.regex)
        if why:
            raise ValueError(f"regex rejected: {why}")
        bad = set(rx.groupindex) - set(ENTITY_GROUPS)
        if bad:
            raise ValueError(f"unknown group(s) {sorted(bad)}: use {', '.join(ENTITY_GROUPS)}")
        if not rx.search(self.example):
            raise ValueError("regex does not match its own example")
        return self


class Symptom(_Model):
    id: str = Field(pattern=ID_RE)
    title: str = Field(min_length=3)
    phrases: tuple[str, ...] = Field(min_length=1)
    errors: tuple[ErrorPattern, ...] = ()
    keywords: tuple[str, ...] = ()
    needs: Literal["nothing", "volume", "container", "path"] = "nothing"
    when_clear: str = ""  # said when the daemon shows nothing for it (instead of "No problem found ...")
    # Pasted commands of these kinds are checked for this symptom when the learner says nothing else.
    commands: tuple[Literal["run", "create", "volume-create", "volume-rm", "volume-inspect", "container-rm"], ...] = ()
    advice: tuple[str, ...] = Field(min_length=1)
    source: str = Field(min_length=3)


# ----------------------------------------------------------------- loading


class RulesError(Exception):
    """A rules folder is invalid. Each problem is one line: file: field: what."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class RuleSet:
    rules: dict[str, Rule]
    symptoms: dict[str, Symptom]
    origin: dict[str, Path]  # rule or symptom id -> file
    overridden: dict[str, Path] = field(default_factory=dict)  # id -> bundled file it replaced

    def for_symptom(self, symptom_id: str) -> list[Rule]:
        return [r for r in self.rules.values() if symptom_id in r.symptoms]


def did_you_mean(word: str, choices) -> str:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    hit = process.extractOne(word, list(choices), scorer=Levenshtein.normalized_similarity, score_cutoff=0.5)
    return f" (did you mean {hit[0]!r}?)" if hit else ""


def _field_name(loc: tuple) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p + 1}]")
        else:
            parts.append(("." if parts else "") + str(p).rstrip("_"))
    return "".join(parts) or "(file)"


def _valid_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model accepts at the place an unknown key was found."""
    m: Any = model
    for p in loc[:-1]:
        if isinstance(p, int):
            continue
        f = m.model_fields.get(p) or next((x for x in m.model_fields.values() if x.alias == p), None)
        if f is None:
            return []
        ann = f.annotation
        for arg in getattr(ann, "__args__", ()) or (ann,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                m = arg
                break
        else:
            return []
    return [f.alias or n for n, f in m.model_fields.items()]


def _explain(path: Path, model: type[BaseModel], err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        where = _field_name(loc)
        if e["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), _valid_keys(model, loc))
            out.append(f"{path}: {where}: unknown key{hint}")
        elif e["type"] == "missing":
            out.append(f"{path}: {where}: missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            out.append(f"{path}: {where}: {msg}")
    return out


def load_file(path: Path, model: type[BaseModel], problems: list[str], parsed: Optional[dict] = None):
    try:
        data = read_toml(path, parsed)
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML: {e}")
        return None
    except RecursionError:
        problems.append(f"{path}: not a rule: nested too deeply")
        return None
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read: {e}")
        return None
    try:
        obj = model.model_validate(data)
    except ValidationError as e:
        problems.extend(_explain(path, model, e))
        return None
    except RecursionError:
        problems.append(f"{path}: not a rule: nested too deeply")
        return None
    if obj.id != path.stem:
        problems.append(f"{path}: id: {obj.id!r} must equal the file name {path.stem!r}")
        return None
    return obj


def bundled_rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    inside = here / "_rules"
    if inside.is_dir():
        return inside
    return here.parent.parent / "rules"  # a source checkout or editable install


def extra_dirs(cli_dirs: list[str] | None = None) -> list[Path]:
    dirs = [Path(d) for d in os.environ.get("VOLDOCTOR_RULES_PATH", "").split(os.pathsep) if d]
    dirs += [Path(d) for d in (cli_dirs or [])]
    return dirs


def load_dir(folder: Path, problems: list[str]) -> tuple[dict, dict, dict]:
    rules: dict[str, Rule] = {}
    symptoms: dict[str, Symptom] = {}
    origin: dict[str, Path] = {}
    if not folder.is_dir():
        problems.append(f"{folder}: not a folder")
        return rules, symptoms, origin
    parsed = parsed_of(folder)
    for p in sorted(folder.glob("*.toml")):
        r = load_file(p, Rule, problems, parsed)
        if r is not None:
            rules[r.id] = r
            origin[r.id] = p
    for p in sorted((folder / "symptoms").glob("*.toml")):
        s = load_file(p, Symptom, problems, parsed)
        if s is not None:
            symptoms[s.id] = s
            origin["symptom:" + s.id] = p
    return rules, symptoms, origin


def load(extra: list[Path] | None = None, *, bundled: bool = True) -> RuleSet:
    """Load the bundled rules, then each extra folder over them. Raises RulesError."""
    problems: list[str] = []
    rules: dict[str, Rule] = {}
    symptoms: dict[str, Symptom] = {}
    origin: dict[str, Path] = {}
    overridden: dict[str, Path] = {}
    folders = ([bundled_rules_dir()] if bundled else []) + list(extra or [])
    for i, folder in enumerate(folders):
        r, s, o = load_dir(folder, problems)
        if i > 0 or not bundled:
            for k in list(r) + ["symptom:" + x for x in s]:
                if k in origin:
                    overridden[k] = origin[k]
        rules.update(r)
        symptoms.update(s)
        origin.update(o)
    for rid, rule in rules.items():
        for other in rule.supersedes:
            if other not in rules:
                problems.append(f"{origin[rid]}: supersedes: unknown rule {other!r}{did_you_mean(other, rules)}")
        for sid in rule.symptoms:
            if sid not in symptoms:
                problems.append(f"{origin[rid]}: symptoms: unknown symptom {sid!r}{did_you_mean(sid, symptoms)}")
    if problems:
        raise RulesError(problems)
    return RuleSet(rules=rules, symptoms=symptoms, origin=origin, overridden=overridden)
