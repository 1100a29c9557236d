"""Masking secrets (always) and names (on request) in what leaves the machine.

Used for reports, snapshots and the conversation's history file. The rules:
label values whose keys look secret; KEY=VALUE settings whose key looks
secret (any case: DB_PASS, aws_secret_access_key, PWD); secret-named
command-line flags (--password x, docker login -p x); the password of URL
credentials (postgres://bob:***@db/x); and well-known token shapes (GitHub,
GitLab, Slack, AWS access key ids, Docker Hub, Stripe, Google API keys, JWTs,
private key blocks, bearer tokens). With anonymize, user names, host names
and home-folder names are replaced consistently (the same name, the same mask),
so a redacted state still replays.

Every pattern here is linear in the text: hostile input costs no more than
reading it.
"""

from __future__ import annotations

import bisect
import json
import re
import socket
from collections import Counter
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

MASK = "***"

# ------------------------------------------------------------ secrets

SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|"
                        r"credential|auth|(^|[._-])key$", re.IGNORECASE)
_ENV_KEY = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
_COLON_KEY = re.compile(r"password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key", re.IGNORECASE)
_FLAG_KEY = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)

_VALUE = r"(\"[^\"\n]*\"|'[^'\n]*'|\S+)"
_URL_CRED = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)([^\s:/@]*):([^\s/@]+)@")
_ENV = re.compile(r"(?<![\w.$-])([A-Za-z_][\w.-]*)([ \t]*=[ \t]*)" + _VALUE)
_COLON = re.compile(r"(?:(?<=[\s{,\[])|^)([\"']?)([A-Za-z_][\w.-]*)\1([ \t]*:[ \t]*)" + _VALUE, re.MULTILINE)
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_FLAG_VALUE = re.compile(r"(=|[ \t]+)(?=[^\s-])" + _VALUE)
_LOGIN = re.compile(r"\bdocker\s+login\b", re.IGNORECASE)
_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
TOKENS = [  # (pattern, what is kept of it)
    re.compile(r"\b(github_pat_)[A-Za-z0-9_]{20,}"),
    re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}"),
    re.compile(r"\b(glpat-)[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b(xox[abposr]-)[A-Za-z0-9-]{10,}"),
    re.compile(r"\b(A(?:KIA|SIA))[0-9A-Z]{16}\b"),
    re.compile(r"\b(dckr_pat_)[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b([sr]k_(?:live|test)_)[A-Za-z0-9]{16,}"),
    re.compile(r"\b(AIza)[0-9A-Za-z_-]{35}"),
    re.compile(r"\b(npm_)[A-Za-z0-9]{36}"),
    re.compile(r"\b(eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # a JWT
    re.compile(r"\b((?:[Bb]earer|[Bb]asic) +)[A-Za-z0-9._~+/-]{12,}=*"),
]


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def redact_labels(labels: dict) -> dict:
    return {k: (MASK if is_secret_key(k) else redact_text(v) if isinstance(v, str) else v) for k, v in labels.items()}


def _env(m: re.Match) -> str:
    return m.group(1) + m.group(2) + MASK if _ENV_KEY.search(m.group(1)) else m.group(0)


def _colon(m: re.Match) -> str:
    quoted, key, sep = m.group(1), m.group(2), m.group(3)
    if not _COLON_KEY.search(key):
        return m.group(0)
    if not quoted:  # only YAML's "password: x" at the start of a line, not "(using password: YES)"
        s = m.string
        before = s[s.rfind("\n", 0, m.start()) + 1: m.start()]
        if before.strip(" \t") or not sep.endswith((" ", "\t")):
            return m.group(0)
    return m.group(0)[: m.start(4) - m.start()] + MASK


def _flags(text: str) -> str:
    """--password x, --db-token=x, docker login -p x (or -px)."""
    out: list[str] = []
    pos = 0
    logins = [m.start() for m in _LOGIN.finditer(text)]
    newlines = [i for i, ch in enumerate(text) if ch == "\n"] if logins else []

    def after_login(at: int) -> bool:  # a 'docker login' earlier on the same line
        i = bisect.bisect_left(logins, at) - 1
        return i >= 0 and bisect.bisect_left(newlines, logins[i]) == bisect.bisect_left(newlines, at)

    for m in _FLAG.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(0)
        login = name.startswith("-p") and not name.startswith("--") and after_login(m.start())
        if login and len(name) > 2:  # -pSECRET
            out.append(text[pos:m.start()] + "-p" + MASK)
            pos = m.end()
            continue
        if not (login or _FLAG_KEY.search(name)) or name.lower().endswith("-stdin"):
            continue
        v = _FLAG_VALUE.match(text, m.end())
        if v is None:
            continue
        out.append(text[pos:m.end()] + v.group(1) + MASK)
        pos = v.end()
    out.append(text[pos:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Secret-looking values in free text: settings, flags, URL credentials, tokens."""
    if not isinstance(text, str) or not text:
        return text
    text = _PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY----- {MASK}", text)
    text = _URL_CRED.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    for pat in TOKENS:
        text = pat.sub(lambda m: m.group(1) + MASK, text)
    text = _flags(text)
    text = _ENV.sub(_env, text)
    return _COLON.sub(_colon, text)


# ------------------------------------------------------------ names

HOME = re.compile(r"(?:/home/|/Users/|[A-Za-z]:\\Users\\|/[a-z]/Users/|/var/home/)([^/\\\s:'\"]+)")
_NOT_NAMES = {"root", "0", "", "localhost", "docker", "default", "user", "shared", "public", "ubuntu"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"}


class Anonymizer:
    """Replaces user names, host names and home-folder names consistently."""

    def __init__(self):
        self.map: dict[str, str] = {}
        self.counts: Counter = Counter()
        self._pattern: Optional[re.Pattern] = None

    def learn(self, kind: str, value: Optional[str]) -> None:
        if not value or value.lower() in _NOT_NAMES or len(value) < 2 or value in self.map:
            return
        if kind == "host" and value.lower() in {k.lower() for k in self.map}:
            return
        self.counts[kind] += 1
        self.map[value] = f"{kind}{self.counts[kind]}"
        self._pattern = None

    def learn_host(self, name: Optional[str]) -> None:
        if not name or name.lower() in _LOOPBACK or name.startswith("127."):
            return
        self.learn("host", name)
        short = name.split(".")[0]
        if short != name and not short.isdigit():
            self.learn("host", short)

    def learn_endpoint(self, url: Optional[str]) -> None:
        try:
            u = urlparse(url or "")
            host, user = u.hostname, u.username
        except ValueError:
            return
        if u.scheme in ("tcp", "http", "https", "ssh"):
            self.learn_host(host)
            self.learn("user", user)

    def learn_homes(self, obj: Any) -> None:
        for s in _strings(obj):
            for m in HOME.finditer(s):
                self.learn("user", m.group(1))

    def apply(self, text: str) -> str:
        if not self.map or not isinstance(text, str):
            return text
        if self._pattern is None:
            reals = sorted(self.map, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, reals)) + r")(?![\w-])",
                                       re.IGNORECASE)
            self._lower = {k.lower(): v for k, v in self.map.items()}
        return self._pattern.sub(lambda m: self.map.get(m.group(1)) or self._lower[m.group(1).lower()], text)


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def walk(obj: Any, fn) -> Any:
    """A copy of obj with fn applied to every string in it, dict keys included."""
    if isinstance(obj, dict):
        return {fn(k) if isinstance(k, str) else k: walk(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [walk(v, fn) for v in obj]
    if isinstance(obj, str):
        return fn(obj)
    return obj


def redact_state(data: dict, anonymize: bool = False, *, also: Any = ()) -> tuple[dict, Optional[Anonymizer]]:
    """A state (as JSON data) with secrets masked, and with names masked when
    anonymize (learning names from the state and from `also`, e.g. the
    conversation, so the same name gets the same mask everywhere)."""
    data = json.loads(json.dumps(data))
    for v in data.get("volumes", []):
        v["labels"] = redact_labels(v.get("labels") or {})
    for c in data.get("containers", []):
        c["labels"] = redact_labels(c.get("labels") or {})
    data = walk(data, redact_text)
    if not anonymize:
        return data, None
    an = Anonymizer()
    an.learn("user", data.get("local_user"))
    an.learn_host((data.get("info") or {}).get("name"))
    an.learn_host(socket.gethostname())
    an.learn_endpoint((data.get("endpoint") or {}).get("url"))
    an.learn_homes(data)
    an.learn_homes(also)
    return walk(data, an.apply), an
