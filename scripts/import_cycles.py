"""Fail on an import cycle between src/floe's top-level packages (run by ``make lint``).

The graph is grimp's: every import in floe, function-level and ``TYPE_CHECKING`` ones included, so an
import moved into a function still counts. Each cycle is printed with one import (``module:line``) per
step. Also checks that ``floe.contract`` stays a leaf: it imports nothing of floe but ``floe.errors``.

    python scripts/import_cycles.py          # exit 1 on a cycle or a contract import, naming it
"""

from __future__ import annotations

import sys
from collections import deque
from itertools import pairwise
from pathlib import Path

import grimp

PACKAGE = "floe"
# Imports that still close a cycle (issue 16): package -> package, with how many modules of the first
# import the second. The list may only shrink: a new cycle fails, so does a count that grows, and so
# does an entry that no longer matches (lower or delete it when you fix one).
KNOWN: dict[tuple[str, str], int] = {}
LEAF = "floe.contract"
LEAF_MAY_IMPORT = {"floe.errors"}

Imports = dict[tuple[str, str], list[str]]
"""(package, package) -> the imports between them, as ``module:line imports module``."""


def top_level(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_imports(graph: grimp.ImportGraph) -> Imports:
    found: Imports = {}
    for module in sorted(graph.modules):
        source = top_level(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            target = top_level(imported)
            if PACKAGE not in (source, target) and source != target:
                details = graph.get_import_details(importer=module, imported=imported)
                line = details[0]["line_number"] if details else "?"
                found.setdefault((source, target), []).append(f"{module}:{line} imports {imported}")
    return found


def _path(edges: set[tuple[str, str]], start: str, goal: str) -> list[str] | None:
    """The shortest path start -> ... -> goal over ``edges``."""
    before: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [goal]
            while path[-1] != start:
                path.append(before[path[-1]])
            return path[::-1]
        for a, b in sorted(edges):
            if a == node and b not in before and b != start:
                before[b] = node
                queue.append(b)
    return None


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """One shortest cycle through each edge that is on a cycle, each once (as a -> ... -> a)."""
    found: dict[frozenset[tuple[str, str]], list[str]] = {}
    for a, b in sorted(edges):
        back = _path(edges, b, a)
        if back is not None:
            cycle = [a, *back]
            steps = frozenset(pairwise(cycle))
            found.setdefault(steps, cycle)
    return sorted(found.values(), key=lambda c: (len(c), c))


def problems(imports: Imports, leaf_imports: list[str]) -> list[str]:
    out: list[str] = []
    for edge, allowed in sorted(KNOWN.items()):
        have = len(imports.get(edge, []))
        if have > allowed:
            out.append(f"{' -> '.join(edge)}: {have} modules import across (KNOWN allows {allowed}, the "
                       f"edge closes a cycle):\n" + "\n".join(f"  {i}" for i in imports[edge]))
        elif have < allowed:
            out.append(f"{' -> '.join(edge)}: {have} modules import across, KNOWN says {allowed}: lower or "
                       f"delete the entry in {Path(__file__).name}")
    edges = {e for e in imports if e not in KNOWN}
    for cycle in cycles(edges):
        steps = "\n".join(f"  {imports[(a, b)][0]}" for a, b in pairwise(cycle))
        out.append(f"import cycle {' -> '.join(cycle)}:\n{steps}")
    out += [f"{i}: {LEAF} is the leaf contract and may import only {', '.join(sorted(LEAF_MAY_IMPORT))} of "
            "floe; move the type it needs into it" for i in leaf_imports]
    return out


def main() -> int:
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    imports = package_imports(graph)
    leaf = [i for (a, b), found in imports.items() if a == LEAF and b not in LEAF_MAY_IMPORT for i in found]
    found = problems(imports, leaf)
    if found:
        print("\n".join(found), file=sys.stderr)
        print(f"\n{len(found)} import problem(s) in src/floe. Break a cycle by moving the shared type down "
              "(into floe.contract, floe.config or floe.errors); a function-level import does not hide it.",
              file=sys.stderr)
        return 1
    packages = {p for edge in imports for p in edge}
    print(f"import graph: {len(packages)} packages of floe, no cycles but {len(KNOWN)} known")
    return 0


if __name__ == "__main__":
    sys.exit(main())
