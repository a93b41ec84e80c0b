"""Secret scanning: credentials committed to a data product's dbt project, found at compile time.

Rules (the reference floe's codes):

=====  =====================================================================================
E601   AWS access key id (``AKIA``/``ASIA`` + 16 upper-case letters or digits)
E602   ``password`` / ``passwd`` / ``pwd`` (``db_password``, ``dbPassword`` ...) assigned a literal
E603   ``api_key`` / ``api_token`` / ``api_secret`` (``apiKey``, ``X-API-KEY`` ...) assigned a literal
E604   PEM private-key header (``-----BEGIN ... PRIVATE KEY-----``)
E605   high-entropy quoted literal: >= 20 characters of ``[A-Za-z0-9_/+=]``, > 4.0 bits per character,
       digits and letters, not a snake_case or path-like name
E699   one of the manifest's ``governance.secret_scanning.custom_patterns``
=====  =====================================================================================

"Assigned a literal" is ``key = 'v'``, ``key: "v"``, ``key := 'v'``, ``"key": "v"`` in any file, and
``key: v`` (a plain scalar) in YAML. References are not secrets: Jinja (``{{ env_var('X') }}``),
floe's ``env:NAME`` / ``file:`` / ``k8s:``, ``${VAR}``, and masked placeholders (``****``, ``<password>``).
One finding per value: a value that several rules match is reported once, by the most specific rule.

What is scanned: every regular file under the dbt project, and the product's floe.yaml, except seeds
(``*.csv`` data), build output and installed packages (``target/``, ``logs/``, ``dbt_packages/``,
``.floe/``, hidden folders), binary files (a NUL byte in the first 8 KiB) and the manifest's
``exclude_patterns``. Folders are never entered through symlinks; a linked file is read only when it
resolves inside the product folder (as ``floe.config.paths`` requires) and outside the dbt project
(there it is read where it lives); devices and FIFOs are never opened.
At most :data:`MAX_BYTES` (1 MiB, the YAML loader's limit) of a file is read: dbt files are KiBs,
and every rule is linear in the text, so a hostile 1 MiB file costs at most a few hundred ms.

A value never leaves this module: findings carry a masked form (at most a quarter of the value and
never more than 4 characters, then ``…``), so violations, errors, artifacts, logs and spans cannot
leak it.

Why not Yelp's detect-secrets as the engine (it stays the repository's hygiene scanner, ``make
test-hygiene``): measured here (1.5.0), importing it costs ~190 ms (its plugin base imports
``requests`` for online verification, which compile must never do), twice the scan's whole budget;
it scans ~150 KiB/s (6.7 s for one 1 MiB model: a code snippet and an injected filter chain per
line); its settings are a process-wide singleton that ``transient_settings`` swaps in and out; and
its keyword plugin reports every keyword as one "Secret Keyword" type, so E602 and E603 could not be
told apart. The rules above are a handful of regular expressions over the whole text instead.
"""

from __future__ import annotations

import math
import os
import re
import stat
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Literal

from floe.config.governance import SecretPattern

MAX_BYTES = 1 << 20
"""Bytes read per file: the rest of a larger file is not scanned."""
MAX_FINDINGS_PER_FILE = 20
"""Findings listed per file; a file with more is reported as such and not scanned further (it needs
fixing wholesale, and a file of thousands of key-like lines must not slow the compile)."""
_SNIFF = 8192
_SKIP_DIRS = frozenset({"target", "logs", "dbt_packages", "__pycache__", "node_modules"})
_YAML = frozenset({".yml", ".yaml"})
Severity = Literal["error", "warning"]

# A key holding a keyword as a word of its own, as floe.config.loader.is_secret_key reads keys:
# db_password, dbPassword, PASSWORD_FILE, but not passwords_doc. Matched from the keyword on (a
# lookbehind instead of a leading \w* keeps every rule linear: no scan restarts at each letter of a
# long word).
_E602_KEY = r"(?:(?<![A-Za-z0-9])(?i:password|passwd|pwd)|(?<=[a-z0-9])(?:Password|Passwd|Pwd))(?![a-z])"
_E603_KEY = r"(?:(?<![A-Za-z0-9])(?i:api)|(?<=[a-z0-9])Api)[_-]?(?i:key|token|secret)(?![a-z])"
_KEY_TAIL = r"""[A-Za-z0-9_-]{0,40}+["']?"""
_QUOTED = r"""\]?[ \t]*+(?::=|=>|=(?!=)|:)[ \t]*+(?:"(?P<dq>[^"\r\n]{3,200})"|'(?P<sq>[^'\r\n]{3,200})')"""
# YAML plain scalar (`password: hunter2`): only as a whole `key: value` line of a YAML file.
_PLAIN = r"""[ \t]*+:[ \t]++(?P<pv>[^\s'"#{}\[\]|>&*!%@`,][^\r\n#]{2,199}?)[ \t]*+(?:\#[^\r\n]*)?$"""


def _assigned(word: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(``key = 'v'`` / ``key: "v"`` in any file, ``key: v`` in YAML) for keys holding ``word``."""
    return (re.compile(word + _KEY_TAIL + _QUOTED),
            re.compile(r"""^[ \t]*+(?:-[ \t]++)?["']?[A-Za-z0-9_-]{0,40}?""" + word + _KEY_TAIL + _PLAIN,
                       re.MULTILINE))


_REFERENCE = re.compile(
    r"\{\{|\{%|\$\{|^\$[A-Za-z_]|^%\(|^(?:env|file|k8s|vault|secret|secrets):|^<[^>]*>$|^(.)\1*$",
    re.IGNORECASE,
)
_YAML_SCALARS = frozenset({"null", "~", "true", "false", "yes", "no", "on", "off", "none"})


def _is_literal(value: str) -> bool:
    """A value written into the file, not a reference to one or a placeholder."""
    return not _REFERENCE.search(value.strip()) and value.strip().lower() not in _YAML_SCALARS


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


@dataclass(frozen=True)
class _Rule:
    code: str
    what: str
    regex: re.Pattern[str]
    severity: Severity = "error"
    keep: Callable[[str], bool] = field(default=lambda value: True)
    yaml_only: bool = False
    shows_match: bool = False
    """The match is a label, not a secret (a PEM header): shown whole."""
    hints: tuple[str, ...] = ()
    """Lower-case words one of which every match contains: a text without any is not searched."""


_E603_ANY, _E603_YAML = _assigned(_E603_KEY)
_E602_ANY, _E602_YAML = _assigned(_E602_KEY)
_BUILTIN = (  # most specific first: a value two rules match is reported by the first
    _Rule("E601", "AWS access key id",
          re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Za-z0-9])"), hints=("akia", "asia")),
    _Rule("E604", "PEM private key", re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"),
          shows_match=True, hints=("private key",)),
    _Rule("E603", "API key or token assigned a literal", _E603_ANY, keep=_is_literal, hints=("api",)),
    _Rule("E603", "API key or token assigned a literal", _E603_YAML, keep=_is_literal, yaml_only=True,
          hints=("api",)),
    _Rule("E602", "password assigned a literal", _E602_ANY, keep=_is_literal, hints=("pass", "pwd")),
    _Rule("E602", "password assigned a literal", _E602_YAML, keep=_is_literal, yaml_only=True,
          hints=("pass", "pwd")),
)
_NAME = re.compile(r"[a-z0-9]+(?:[_/][a-z0-9]+)+|[A-Z0-9]+(?:[_/][A-Z0-9]+)+")


def _random_looking(value: str) -> bool:
    """High entropy, and a key's mix of digits and letters rather than a long name: without these two
    tests, identifiers such as ``require_batched_execution_for_custom_microbatch_strategy`` and
    ``customer_360_orders_2024`` (in dbt's own macros and in ordinary models) pass 4.0 bits/char."""
    return (_entropy(value) > 4.0 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
            and not _NAME.fullmatch(value))


_HIGH_ENTROPY = _Rule("E605", "high-entropy literal",
                      re.compile(r"""(?P<q>["'])(?P<v>[A-Za-z0-9_/+=]{20,}+)(?P=q)"""), keep=_random_looking)


@dataclass(frozen=True)
class Finding:
    """One possible secret. ``masked`` is all that is kept of the value."""

    code: str
    what: str
    file: str
    """Relative to the product folder, POSIX separators."""
    line: int
    masked: str
    severity: Severity


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    overflowing: list[str] = field(default_factory=list)
    """Files with more than :data:`MAX_FINDINGS_PER_FILE` findings (the first ones are listed)."""
    files_scanned: int = 0


def mask(value: str) -> str:
    """At most a quarter of ``value``, never more than 4 characters, then ``…``."""
    return value[: min(4, len(value) // 4)] + "…"


def scan_product(
    product_dir: Path,
    project_dir: Path,
    *,
    extra_files: Sequence[Path] = (),
    exclude_patterns: Sequence[str] = (),
    custom_patterns: Sequence[SecretPattern] = (),
) -> ScanResult:
    """Scan the dbt project in ``project_dir`` (and ``extra_files``, e.g. floe.yaml) for secrets.

    Args:
        product_dir: the product folder; reported paths and ``exclude_patterns`` are relative to it,
            and no file outside it is read.
        project_dir: the dbt project (``product_dir`` or a folder inside it).
        extra_files: further files of the product to scan (floe.yaml).
        exclude_patterns: globs of files or folders not to scan.
        custom_patterns: the platform's own secret shapes, reported as E699.

    Returns:
        The findings, sorted by file, line and code; values masked.
    """
    rules = [*_BUILTIN, *(_Rule("E699", f"custom pattern {p.name!r}", re.compile(p.pattern, re.MULTILINE), p.severity)
                          for p in custom_patterns), _HIGH_ENTROPY]
    result = ScanResult()
    for rel, path in _files(product_dir.resolve(), project_dir.resolve(), extra_files, exclude_patterns):
        text = _read(path)
        if text is None:
            continue
        result.files_scanned += 1
        found = list(islice(_scan_text(text, rel, rules), MAX_FINDINGS_PER_FILE + 1))
        result.findings += found[:MAX_FINDINGS_PER_FILE]
        if len(found) > MAX_FINDINGS_PER_FILE:
            result.overflowing.append(rel)
    result.findings.sort(key=lambda f: (f.file, f.line, f.code))
    return result


def _files(product: Path, project: Path, extra: Sequence[Path],
           exclude: Sequence[str]) -> Iterator[tuple[str, Path]]:
    seen: set[tuple[int, int]] = set()

    def candidate(path: Path, rel: str) -> tuple[str, Path] | None:
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):  # read once, where it lives, and only inside the product
                path = path.resolve()
                if not path.is_relative_to(product) or path.is_relative_to(project):
                    return None
                st = os.stat(path)
        except (OSError, RuntimeError):  # vanished, unreadable, a link loop
            return None
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen or _excluded(PurePosixPath(rel), exclude):
            return None  # devices, FIFOs and sockets are never opened
        seen.add((st.st_dev, st.st_ino))
        return rel, path

    for dirpath, dirnames, filenames in os.walk(project):  # followlinks=False: linked folders not entered
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        folder = Path(dirpath).relative_to(product).as_posix()
        for name in sorted(filenames):
            if not name.endswith(".csv") and (found := candidate(Path(dirpath, name), _join(folder, name))):
                yield found
    for path in extra:
        folder_path = path.parent.resolve()
        if folder_path.is_relative_to(product):
            folder = folder_path.relative_to(product).as_posix()
            if found := candidate(folder_path / path.name, _join(folder, path.name)):
                yield found


def _join(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def _excluded(rel: PurePosixPath, patterns: Sequence[str]) -> bool:
    """``rel`` or one of its folders matches a pattern (``**/`` also matches at the top)."""
    names = [str(rel), *(str(p) for p in rel.parents if str(p) != ".")]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        variants = (pattern, pattern[3:]) if pattern.startswith("**/") else (pattern,)
        if any(fnmatchcase(name, v) for name in names for v in variants):
            return True
    return False


def _read(path: Path) -> str | None:
    """The first MAX_BYTES of a text file; None for binaries and unreadable files."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES)
    except OSError:
        return None
    if b"\0" in raw[:_SNIFF]:
        return None
    return raw.decode("utf-8", errors="replace")


def _scan_text(text: str, rel: str, rules: Sequence[_Rule]) -> Iterator[Finding]:
    is_yaml = PurePosixPath(rel).suffix in _YAML
    lowered = text.lower()
    taken: dict[int, list[tuple[int, int]]] = {}  # line -> value spans already reported
    line_starts: list[int] | None = None
    for rule in rules:
        if (rule.yaml_only and not is_yaml) or (rule.hints and not any(h in lowered for h in rule.hints)):
            continue
        for m in rule.regex.finditer(text):
            group: str | int | None = next(
                (g for g in ("v", "dq", "sq", "pv") if g in rule.regex.groupindex and m.group(g)), None)
            if group is None and rule.regex.groups and m.group(1):
                group = 1  # a custom pattern's first group
            value, (start, end) = (m.group(group), m.span(group)) if group is not None else (m.group(0), m.span())
            if not value or not rule.keep(value):
                continue
            if line_starts is None:
                line_starts = [0, *(nl.end() for nl in re.finditer("\n", text))]
            line = bisect_right(line_starts, start)
            spans = taken.setdefault(line, [])
            if any(s < end and start < e for s, e in spans):
                continue
            spans.append((start, end))
            yield Finding(code=rule.code, what=rule.what, file=rel, line=line,
                          masked=value if rule.shows_match else mask(value), severity=rule.severity)
