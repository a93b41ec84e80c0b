"""The core never decides by a plugin's name: whatever it needs to know is a method of the plugin's ABC.

A plugin name compared to a literal outside src/floe/plugins (``storage.type == "s3"``,
``catalog.type in {"polaris", ...}``, ``cfg.get("type") == "file"``) is a backend hard-wired into the
core: a third-party backend could never get the same treatment. This test finds such comparisons.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import grimp
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


def _import_cycles() -> ModuleType:
    """scripts/import_cycles.py, the check `make lint` runs."""
    path = SRC.parents[1] / "scripts" / "import_cycles.py"
    spec = importlib.util.spec_from_file_location("import_cycles", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cycle_check_names_a_cycle_and_a_contract_import() -> None:
    """Guard against a check that can never fail: a made-up graph with one cycle and a leaf import."""
    check = _import_cycles()
    imports = {("floe.a", "floe.b"): ["floe.a.x:3 imports floe.b.y"],
               ("floe.b", "floe.c"): ["floe.b.y:7 imports floe.c"],
               ("floe.c", "floe.a"): ["floe.c:1 imports floe.a.x"],
               ("floe.c", "floe.errors"): ["floe.c:2 imports floe.errors"]}
    found = check.problems({**imports, **{e: ["x"] * n for e, n in check.KNOWN.items()}},
                           ["floe.contract.artifacts:9 imports floe.config._base"])
    assert found == [
        "import cycle floe.a -> floe.b -> floe.c -> floe.a:\n  floe.a.x:3 imports floe.b.y\n"
        "  floe.b.y:7 imports floe.c\n  floe.c:1 imports floe.a.x",
        "floe.contract.artifacts:9 imports floe.config._base: floe.contract is the leaf contract and may import "
        "only floe.errors of floe; move the type it needs into it",
    ]


def test_no_import_cycles_between_floe_packages() -> None:
    check = _import_cycles()
    imports = check.package_imports(grimp.build_graph("floe", cache_dir=None))
    leaf = [i for (a, b), found in imports.items() if a == check.LEAF and b not in check.LEAF_MAY_IMPORT
            for i in found]
    assert check.problems(imports, leaf) == []
    assert ("floe.contract", "floe.config") not in imports
