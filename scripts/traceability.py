"""Requirement traceability: every e2e test names a requirement; every seed requirement has a test.

    python scripts/traceability.py        # prints the matrix, exits 1 on a gap
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = [f"15-FR-{i:03d}" for i in range(1, 16)]


def _requirements(node: ast.AST) -> list[str]:
    found = []
    for dec in getattr(node, "decorator_list", []):
        if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "requirement":
            found += [a.value for a in dec.args if isinstance(a, ast.Constant)]
    return found


def collect() -> tuple[dict[str, list[str]], list[str]]:
    matrix: dict[str, list[str]] = defaultdict(list)
    untraced: list[str] = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                reqs = _requirements(node)
                name = f"{path.relative_to(ROOT)}::{node.name}"
                for r in reqs:
                    matrix[r].append(name)
                if not reqs and "e2e" in path.parts:
                    untraced.append(name)
    return matrix, untraced


def main() -> int:
    matrix, untraced = collect()
    for req in sorted(matrix, key=lambda r: (not r.startswith("15-FR"), r)):
        print(f"{req:22s} {len(matrix[req]):3d}  {matrix[req][0]}" + (" ..." if len(matrix[req]) > 1 else ""))
    missing = [r for r in SEED if r not in matrix]
    status = 0
    if missing:
        print(f"\nrequirements without a test: {', '.join(missing)}")
        status = 1
    if untraced:
        print("\ne2e tests without @pytest.mark.requirement:\n  " + "\n  ".join(untraced))
        status = 1
    print(f"\n{sum(len(v) for v in matrix.values())} test->requirement links, {len(matrix)} requirements")
    return status


if __name__ == "__main__":
    sys.exit(main())
