"""Hypothesis strategies that turn the demo manifests and floe.yaml files into malformed ones.

Structured mutations change one node of the parsed document (wrong type, missing or unknown key,
wrong enum value, deep nesting, empty/huge/unicode strings, non-mapping document) and dump it again;
text mutations break the YAML itself (duplicate keys, several documents, tags, anchors, truncation).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]
SPECS = {p: (DEMO / p / "floe.yaml").read_text() for p in PRODUCTS}
MANIFESTS = {m: (DEMO / m).read_text() for m in ("manifest.yaml", "manifest.embedded.yaml")}

Path_ = tuple[Any, ...]


def node_paths(doc: Any, here: Path_ = ()) -> list[Path_]:
    """Every key/index path in ``doc``, the root included."""
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += node_paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += node_paths(v, (*here, i))
    return out


def _get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


# Values of the wrong type or shape for whatever key they land on.
WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.just(""), st.just(" "), st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x2FFFF,
                                   blacklist_categories=("Cs",)), min_size=1, max_size=20),  # unicode
    st.integers(1_000, 100_000).map(lambda n: "x" * n),  # huge strings
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.integers(5, 80).map(_deep),  # deep nesting, below and above the limit
    st.sampled_from(["bronze ", "GOLD", "floe.dev/v2", "Manifest", "FloeSpec", "none", "env:", "k8s:x",
                     "duckdb", "sql", "polaris", "s3", "local", "strict", "warn", "off", "1.0", "1.0.0.0",
                     "* * * *", "Mars/Olympus", "../../etc/passwd", "/etc/passwd", "..", "~/x",
                     "{{ ref('x') }}", "http://", "https://x y", "-1", "0", "yes", "null", "~"]),
)
KEY = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(
    ["password", "api_token", "clientSecret", "credentials", "host", "type", "name", "tier", "kind", "x-y"]))


_PARSED: dict[str, Any] = {}


@st.composite
def mutated_doc(draw: st.DrawFn, text: str) -> Any:
    """The document of ``text`` with one to three nodes changed."""
    if text not in _PARSED:
        _PARSED[text] = yaml.load(text, Loader=yaml.CSafeLoader)  # a safe loader, C speed
    doc = copy.deepcopy(_PARSED[text])
    for _ in range(draw(st.integers(1, 3))):
        paths = node_paths(doc)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename", "wrap", "root"]))
        if kind == "root" or not path:
            doc = draw(st.one_of(WRONG, st.just(doc), st.just([doc])))
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        if kind == "replace":
            parent[last] = draw(WRONG)
        elif kind == "delete":
            del parent[last]
        elif kind == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent, dict):
            key = draw(KEY)
            if kind == "rename":
                parent[key] = parent.pop(last)
            else:
                parent[key] = draw(WRONG)
        else:
            parent.append(draw(WRONG))
        if not isinstance(doc, (dict, list)):
            break
    return doc


def dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False, width=10_000)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """``text`` broken at the YAML level."""
    lines = text.splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["dup_line", "second_doc", "tag", "anchor", "bomb", "truncate", "insert",
                                 "indent", "deep_flow", "big", "tab", "control", "bom", "nonmapping"]))
    if kind == "dup_line":
        return "".join([*lines[: i + 1], lines[i], *lines[i + 1:]])
    if kind == "second_doc":
        return text + "---\n" + draw(st.sampled_from(["", "a: 1\n", text]))
    if kind == "tag":
        tag = draw(st.sampled_from(["!!python/object/apply:os.system ['true']", "!!python/name:os.system",
                                    "!!binary aGk=", "!!set {a}", "!Custom x", "!!timestamp 2024-01-01",
                                    "!!omap [a: 1]", "!!str x", "!!int 3"]))
        return text + f"tagged: {tag}\n" if draw(st.booleans()) else text.replace(": ", f": {tag} #", 1)
    if kind == "anchor":
        return "".join([*lines[:i], "x: &a [1, 2]\n", "y: *a\n", "z: *missing\n"[: draw(st.integers(0, 13))],
                        *lines[i:]])
    if kind == "bomb":
        return text + BOMB
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=8)) + text[at:]
    if kind == "indent":
        return "".join([*lines[:i], " " * draw(st.integers(1, 5)) + lines[i], *lines[i + 1:]])
    if kind == "deep_flow":
        n = draw(st.integers(10, 5_000))
        return text + "deep: " + "[" * n + "]" * n + "\n"
    if kind == "big":
        return text + "# " + "x" * draw(st.integers(1_048_576 - len(text), 1_100_000)) + "\n"
    if kind == "tab":
        return text.replace("  ", "\t", draw(st.integers(1, 3)))
    if kind == "control":
        return text[:i] + draw(st.sampled_from(["\x00", "\x07", "\ufffe", "\x85", "\u2028"])) + text[i:]
    if kind == "bom":
        return "\ufeff" + text
    return draw(st.sampled_from(["", "null\n", "[]\n", "- a\n- b\n", "just a string\n", "42\n", "~\n"]))
