"""The core never decides by a plugin's name: whatever it needs to know is a method of the plugin's ABC.

A plugin name compared to a literal outside src/floe/plugins (``storage.type == "s3"``,
``catalog.type in {"polaris", ...}``, ``cfg.get("type") == "file"``) is a backend hard-wired into the
core: a third-party backend could never get the same treatment. This test finds such comparisons.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from floe.plugins import PluginType, get_registry

SRC = Path(__file__).resolve().parents[2] / "src" / "floe"
CORE = sorted(p for p in SRC.rglob("*.py") if "plugins" not in p.relative_to(SRC).parts)

# Known places still to be moved behind a plugin method (issue 16). The list may only shrink: a new
# comparison fails, and so does an entry that no longer matches (delete it when you fix one).
KNOWN: dict[str, int] = {}


def _plugin_names() -> set[str]:
    registry = get_registry()
    return {name for ptype in PluginType for name in registry.type_names(ptype.slot)}


def _is_type_access(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "type":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "type"
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and node.slice.value == "type")


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for e in node.elts for v in _literals(e)]
    return []


def find_name_comparisons(path: Path, names: set[str]) -> list[str]:
    """``file:line`` of every comparison of a ``type`` to a literal plugin name in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if any(_is_type_access(s) for s in sides) and any(v in names for s in sides for v in _literals(s)):
            where = path.relative_to(SRC.parent).as_posix() if path.is_relative_to(SRC) else str(path)
            found.append(f"{where}:{node.lineno}")
    return found


def test_the_detector_finds_what_it_should(tmp_path: Path) -> None:
    """Guard against a detector that can never fail."""
    probe = tmp_path / "probe.py"
    probe.write_text('a = p.storage.type == "s3"\nb = cfg.get("type") in ("file", "x")\nc = x["type"] != "s3"\n'
                     'd = dim.type == "time"\ne = "s3" == name\n')
    assert [h.rsplit(":", 1)[1] for h in find_name_comparisons(probe, {"s3", "file"})] == ["1", "2", "3"]


@pytest.mark.requirement("FLOE-PLUGINS")
def test_core_packages_do_not_compare_plugin_names() -> None:
    names = _plugin_names()
    hits: dict[str, int] = {}
    for path in CORE:
        for hit in find_name_comparisons(path, names):
            file = hit.rsplit(":", 1)[0]
            hits[file] = hits.get(file, 0) + 1
    new = {f: n for f, n in hits.items() if n > KNOWN.get(f, 0)}
    fixed = {f: n for f, n in KNOWN.items() if hits.get(f, 0) < n}
    assert new == {}, f"core code compares plugin names (make it a method of the plugin's ABC): {new}"
    assert fixed == {}, f"fewer name comparisons than listed: lower KNOWN in this test: {fixed}"
