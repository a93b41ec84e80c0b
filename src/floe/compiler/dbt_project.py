"""Read a dbt project's shape (models, refs, tests, descriptions) without starting dbt.

Starting dbt costs seconds; compile must stay under one. This reader understands what floe needs:
``ref()``/``source()`` calls, folder layers, ``schema.yml`` descriptions and tests, seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from floe.errors import ConfigError

_REF = re.compile(r"""\bref\(\s*['"]([A-Za-z0-9_]+)['"]\s*(?:,\s*['"]([A-Za-z0-9_]+)['"]\s*)?\)""")
_CONFIG = re.compile(r"config\((.*?)\)\s*}}", re.S)
_MATERIALIZED = re.compile(r"""materialized\s*=\s*['"]([A-Za-z_]+)['"]""")


@dataclass
class DbtColumn:
    name: str
    description: str = ""
    tests: list[str] = field(default_factory=list)


@dataclass
class DbtModel:
    name: str
    path: str
    folder: str
    refs: list[str]
    description: str = ""
    columns: dict[str, DbtColumn] = field(default_factory=dict)
    model_tests: list[str] = field(default_factory=list)
    materialized: str | None = None
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def test_count(self) -> int:
        return len(self.model_tests) + sum(len(c.tests) for c in self.columns.values())


@dataclass
class DbtProject:
    root: Path
    name: str
    profile: str
    models: dict[str, DbtModel]
    seeds: list[str]
    singular_tests: dict[str, list[str]]
    """test file name -> models it refs"""

    def topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*chain[chain.index(name):], name])
                raise ConfigError("circular model dependency", file=self.root / "models", value=cycle,
                                  hint="break the cycle: a model cannot (indirectly) ref itself")
            state[name] = 1
            for dep in sorted(self.models[name].refs):
                if dep in self.models:
                    visit(dep, [*chain, name])
            state[name] = 2
            order.append(name)

        for name in sorted(self.models):
            visit(name, [])
        return order


def _tests_of(entry: dict[str, Any]) -> list[str]:
    tests = entry.get("data_tests", entry.get("tests")) or []
    names = []
    for t in tests:
        if isinstance(t, str):
            names.append(t)
        elif isinstance(t, dict) and t:
            names.append(next(iter(t)))
    return names


def read_dbt_project(root: Path) -> DbtProject:
    project_file = root / "dbt_project.yml"
    if not project_file.exists():
        raise ConfigError("no dbt project here (dbt_project.yml not found)", file=project_file,
                          hint="set `dbt.project_dir` in floe.yaml to the folder holding dbt_project.yml")
    cfg = yaml.safe_load(project_file.read_text()) or {}
    model_paths = cfg.get("model-paths", ["models"])
    seed_paths = cfg.get("seed-paths", ["seeds"])
    test_paths = cfg.get("test-paths", ["tests"])

    models: dict[str, DbtModel] = {}
    for mp in model_paths:
        base = root / mp
        for sql in sorted(base.rglob("*.sql")):
            text = sql.read_text(encoding="utf-8")
            rel = sql.relative_to(base)
            refs = sorted({m.group(2) or m.group(1) for m in _REF.finditer(text)})
            materialized = None
            for block in _CONFIG.findall(text):
                if found := _MATERIALIZED.search(block):
                    materialized = found.group(1)
            models[sql.stem] = DbtModel(
                name=sql.stem, path=str(sql.relative_to(root)), folder=rel.parts[0] if len(rel.parts) > 1 else "",
                refs=refs, materialized=materialized,
            )
        for yml in sorted([*base.rglob("*.yml"), *base.rglob("*.yaml")]):
            doc = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
            for entry in doc.get("models", []) or []:
                model = models.get(entry.get("name", ""))
                if model is None:
                    continue
                model.description = (entry.get("description") or "").strip()
                model.model_tests = _tests_of(entry)
                conf = entry.get("config") or {}
                model.tags = list(conf.get("tags", entry.get("tags", [])) or [])
                model.meta = dict(conf.get("meta", entry.get("meta", {})) or {})
                for col in entry.get("columns", []) or []:
                    model.columns[col["name"]] = DbtColumn(
                        name=col["name"], description=(col.get("description") or "").strip(), tests=_tests_of(col)
                    )

    seeds = sorted({csv.stem for sp in seed_paths for csv in (root / sp).rglob("*.csv")})
    singular: dict[str, list[str]] = {}
    for tp in test_paths:
        for sql in sorted((root / tp).rglob("*.sql")):
            singular[sql.stem] = sorted({m.group(1) for m in _REF.finditer(sql.read_text(encoding="utf-8"))})
    for test, refs in singular.items():
        for ref in refs:
            if ref in models:
                models[ref].model_tests.append(test)
    return DbtProject(root=root, name=str(cfg.get("name", root.name)), profile=str(cfg.get("profile", "")),
                      models=models, seeds=seeds, singular_tests=singular)
