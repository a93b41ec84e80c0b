"""Read a dbt project's shape (models, refs, tests, descriptions) without starting dbt.

Starting dbt costs seconds; compile must stay under one. This reader understands what floe needs:
``ref()``/``source()`` calls, folder layers, ``schema.yml`` descriptions and tests, seeds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.config.loader import read_yaml
from floe.config.paths import inside
from floe.errors import ConfigError

_REF = re.compile(r"""\bref\(\s*['"]([A-Za-z0-9_]+)['"]\s*(?:,\s*['"]([A-Za-z0-9_]+)['"]\s*)?\)""")
_SOURCE = re.compile(r"""\bsource\(\s*['"]([A-Za-z0-9_]+)['"]\s*,\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
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
    sources: list[tuple[str, str]] = field(default_factory=list)
    """``source('<source name>', '<table>')`` calls."""
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
    schemas: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    """``seeds`` / ``models``: every ``+schema`` (or ``schema``) of dbt_project.yml, as (key path, value)."""
    macros: set[str] = field(default_factory=set)
    """Names of the macros the project's ``macro-paths`` define."""

    def topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*chain[chain.index(name):], name])
                raise ConfigError(f"circular model dependency: model {name!r} refs itself through {cycle}",
                                  file=self.root / self.models[name].path, value=cycle,
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
    for t in tests if isinstance(tests, list) else []:
        if isinstance(t, str):
            names.append(t)
        elif isinstance(t, dict) and t:
            names.append(str(next(iter(t))))
    return names


def _sub_paths(cfg: dict[str, Any], key: str, default: str, project_file: Path) -> list[Path]:
    """``model-paths`` and the like: relative folders that stay inside the project."""
    value = cfg.get(key, [default])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a list of folder names", file=project_file, key=key, value=value,
                          hint=f'e.g. {key}: ["{default}"]')
    root = project_file.parent
    for v in value:
        if Path(v).is_absolute() or not inside(root, root / v):
            raise ConfigError("folder is outside the dbt project", file=project_file, key=key, value=v,
                              hint="floe reads models, seeds and tests only from inside the project folder")
    return [root / v for v in value]


def _files(root: Path, base: Path, *patterns: str) -> list[Path]:
    found = sorted({f for pattern in patterns for f in base.rglob(pattern) if f.is_file()})
    for f in found:
        if not inside(root, f):
            raise ConfigError("file links outside the dbt project", file=f, value=str(f.resolve()),
                              hint="copy the file into the project instead of linking to it")
    return found


def _check_jinja(sql: Path, text: str) -> None:
    """A model dbt could not render is a compile error here, not a failed run later."""
    if "{" not in text:
        return
    import jinja2  # lazily: only compile pays for it, not CLI start-up

    env = jinja2.Environment(extensions=["jinja2.ext.do"], autoescape=True)  # parsed only, never rendered
    try:
        env.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"model {sql.stem!r} is not valid Jinja (line {exc.lineno}): {exc.message}",
                          file=sql, hint="fix the {{ }} / {% %} blocks; `dbt parse` shows the same error") from exc


def read_dbt_project(root: Path) -> DbtProject:
    """Read the shape of the dbt project in ``root``.

    Raises:
        ConfigError: dbt_project.yml is missing or malformed, a file links outside the project, a
            model is not valid Jinja or a schema file is not what dbt expects; naming the file.
    """
    project_file = root / "dbt_project.yml"
    if not project_file.exists():
        raise ConfigError("no dbt project here (dbt_project.yml not found)", file=project_file,
                          hint="set `dbt.project_dir` in floe.yaml to the folder holding dbt_project.yml")
    cfg = read_yaml(project_file)
    model_paths = _sub_paths(cfg, "model-paths", "models", project_file)
    seed_paths = _sub_paths(cfg, "seed-paths", "seeds", project_file)
    test_paths = _sub_paths(cfg, "test-paths", "tests", project_file)

    models: dict[str, DbtModel] = {}
    for base in model_paths:
        for sql in _files(root, base, "*.sql"):
            text = _read_sql(sql)
            _check_jinja(sql, text)
            rel = sql.relative_to(base)
            refs = sorted({m.group(2) or m.group(1) for m in _REF.finditer(text)})
            materialized = None
            for block in _CONFIG.findall(text):
                if found := _MATERIALIZED.search(block):
                    materialized = found.group(1)
            if sql.stem in models:
                raise ConfigError(f"two models are named {sql.stem!r}", file=sql,
                                  value=[models[sql.stem].path, str(sql.relative_to(root))],
                                  hint="dbt model names are unique per project: rename one file")
            models[sql.stem] = DbtModel(
                name=sql.stem, path=str(sql.relative_to(root)), folder=rel.parts[0] if len(rel.parts) > 1 else "",
                refs=refs, materialized=materialized,
                sources=sorted({(m.group(1), m.group(2)) for m in _SOURCE.finditer(text)}),
            )
        for yml in _files(root, base, "*.yml", "*.yaml"):
            _read_schema_file(yml, read_yaml(yml, allow_empty=True), models)

    seed_files = [csv for sp in seed_paths for csv in _files(root, sp, "*.csv")]
    for seed in seed_files:
        check_seed(seed)
    seeds = sorted({csv.stem for csv in seed_files})
    singular: dict[str, list[str]] = {}
    for tp in test_paths:
        for sql in _files(root, tp, "*.sql"):
            singular[sql.stem] = sorted({m.group(1) for m in _REF.finditer(_read_sql(sql))})
    for test, refs in singular.items():
        for ref in refs:
            if ref in models:
                models[ref].model_tests.append(test)
    return DbtProject(root=root, name=str(cfg.get("name", root.name)), profile=str(cfg.get("profile", "")),
                      models=models, seeds=seeds, singular_tests=singular,
                      schemas={kind: list(_schema_keys(cfg.get(kind), kind)) for kind in ("seeds", "models")},
                      macros=_macro_names(cfg, root))


def _schema_keys(section: Any, path: str) -> Iterator[tuple[str, Any]]:
    """The schema settings of a ``seeds:`` / ``models:`` tree, with their key paths."""
    if not isinstance(section, dict):
        return
    for key, value in section.items():
        if key in ("+schema", "schema") and not isinstance(value, dict):
            yield f"{path}.{key}", value
        elif isinstance(value, dict):
            yield from _schema_keys(value, f"{path}.{key}")


_MACRO = re.compile(r"{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _macro_names(cfg: dict[str, Any], root: Path) -> set[str]:
    """Macros defined under ``macro-paths`` (dbt lets them live beside the project, e.g. ``../macros``)."""
    paths = cfg.get("macro-paths", ["macros"])
    names: set[str] = set()
    for folder in paths if isinstance(paths, list) else []:
        base = (root / str(folder)).resolve()
        if not base.is_dir():
            continue
        for sql in sorted(base.rglob("*.sql")):
            if sql.is_file() and sql.stat().st_size <= 1024 * 1024:
                names.update(_MACRO.findall(sql.read_text(encoding="utf-8", errors="replace")))
    return names


SEED_SHAPE_BYTES = 16 * 1024 * 1024
"""Seeds up to this size have every row's width checked; larger ones their header (all are UTF-8-checked)."""


def check_seed(path: Path) -> None:
    """A seed dbt can load: UTF-8 text, a header of distinct, non-empty column names, and rows as wide
    as the header (dbt's CSV reader fails on each of these, with a traceback that does not name the file).

    Raises:
        ConfigError: naming the seed file and the line (key ``line N``).
    """
    import codecs
    import csv

    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as f:
        while True:
            chunk = f.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line += chunk.count(b"\n", 0, max(exc.start, 0))
                raise ConfigError(f"seed is not UTF-8 text (byte {exc.object[exc.start]:#04x})", file=path,
                                  key=f"line {line}", hint="save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 "
                                                           f"{path.name} > fixed.csv`") from exc
            if not chunk:
                break
            line += chunk.count(b"\n")
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if not header or not any(h.strip() for h in header):
            raise ConfigError("seed has no header row", file=path, key="line 1",
                              hint="the first line names the columns, comma-separated")
        names = [h.strip() for h in header]
        bad = next((n for i, n in enumerate(names) if not n or n in names[:i]), None)
        if bad is not None:
            raise ConfigError("seed header has an empty column name" if not bad else f"seed header names {bad!r} twice",
                              file=path, key="line 1", value=header,
                              hint="give every column of the header its own name")
        if path.stat().st_size > SEED_SHAPE_BYTES:
            return
        for row in rows:
            if row and len(row) != len(header):
                raise ConfigError(f"seed row has {len(row)} values, the header {len(header)} columns", file=path,
                                  key=f"line {rows.line_num}", value=row[:10],
                                  hint="quote values that hold a comma, and give every row a value per column")


def _read_sql(sql: Path) -> str:
    try:
        return sql.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the model file: {exc}", file=sql, hint="save it as UTF-8 text") from exc


def _read_schema_file(yml: Path, doc: dict[str, Any], models: dict[str, DbtModel]) -> None:
    entries = doc.get("models") or []
    if not isinstance(entries, list):
        raise ConfigError("must be a list of models", file=yml, key="models", value=type(entries).__name__,
                          hint="write `models:` as a list of `- name: ...` entries")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError("each model needs a `name`", file=yml, key=f"models[{i}]",
                              hint="write `- name: <model>` with the model's description, columns and tests")
        model = models.get(entry["name"])
        if model is None:
            continue
        model.description = str(entry.get("description") or "").strip()
        model.model_tests = _tests_of(entry)
        conf = entry.get("config") or {}
        conf = conf if isinstance(conf, dict) else {}
        tags = conf.get("tags", entry.get("tags", [])) or []
        model.tags = [str(t) for t in (tags if isinstance(tags, list) else [tags])]
        meta = conf.get("meta", entry.get("meta", {})) or {}
        model.meta = dict(meta) if isinstance(meta, dict) else {}
        columns = entry.get("columns") or []
        for j, col in enumerate(columns if isinstance(columns, list) else []):
            if not isinstance(col, dict) or not isinstance(col.get("name"), str):
                raise ConfigError("each column needs a `name`", file=yml, key=f"models[{i}].columns[{j}]",
                                  hint="write `- name: <column>`")
            model.columns[col["name"]] = DbtColumn(
                name=col["name"], description=str(col.get("description") or "").strip(), tests=_tests_of(col)
            )
