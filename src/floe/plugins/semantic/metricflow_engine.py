"""MetricFlow over the product's Iceberg tables, computed in an in-memory DuckDB.

The semantic section becomes MetricFlow's own YAML (:func:`floe.plugins.semantic.metricflow_model.metricflow_yaml`),
MetricFlow plans the query and renders DuckDB SQL, and floe runs that SQL on a private DuckDB
connection holding the tables the section reads (only their declared columns, read through PyIceberg)
and a day time spine. Numbers are DuckDB's, types included (DECIMAL stays Decimal).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError
from floe.plugins.semantic.metricflow_model import (
    METRICFLOW_VERSION,
    TIME_SPINE_COLUMN,
    TIME_SPINE_SCHEMA,
    TIME_SPINE_TABLE,
    metricflow_yaml,
)
from floe.plugins.semantic.query import QueryResult, ResolvedQuery, SemanticQueryError

if TYPE_CHECKING:
    import duckdb

    from floe.contract.semantic import SemanticSpec
    from floe.plugins.semantic.query import QueriedProduct

def _require_metricflow() -> None:
    import importlib.util

    if importlib.util.find_spec("metricflow") is None:
        raise FloeError(
            "MetricFlow is not installed in this environment (python package `metricflow`)",
            hint=f"install floe's dependencies (`make setup`, or `pip install metricflow=={METRICFLOW_VERSION}`)")


class DuckDBSqlClient:
    """MetricFlow's SqlClient protocol over one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._con = con
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> Any:
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> Any:
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: Any = None) -> Any:
        from metricflow.data_table.mf_table import MetricFlowDataTable

        cur = self._con.execute(stmt, _params(sql_bind_parameter_set))
        return MetricFlowDataTable.create_from_rows(column_names=[d[0] for d in cur.description],
                                                    rows=cur.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        self._con.execute(stmt, _params(sql_bind_parameter_set))

    def dry_run(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        self._con.execute(f"EXPLAIN {stmt}", _params(sql_bind_parameter_set))

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _params(bind: Any) -> dict[str, Any] | None:
    if bind is None or not bind.param_dict:
        return None
    return {k: v.value if hasattr(v, "value") else v for k, v in bind.param_dict.items()}


def build_engine(spec: SemanticSpec, namespace: str, con: duckdb.DuckDBPyConnection) -> Any:
    """A MetricFlowEngine for ``spec``, its tables expected at ``<namespace>.<model>`` in ``con``.

    Raises:
        SemanticQueryError: MetricFlow's own validation refused the definitions.
    """
    _require_metricflow()
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantic_interfaces.parsing.dir_to_model import (
        parse_yaml_files_to_validation_ready_semantic_manifest,
    )
    from metricflow_semantic_interfaces.parsing.objects import YamlConfigFile
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    text = metricflow_yaml(spec, namespace)
    built = parse_yaml_files_to_validation_ready_semantic_manifest(
        [YamlConfigFile(filepath="floe.yaml#semantic", contents=text)], raise_issues_as_exceptions=False)
    issues = list(built.issues.errors)
    if not issues:
        issues = list(SemanticManifestValidator().validate_semantic_manifest(built.semantic_manifest).errors)
    if issues:
        detail = "\n".join(f"  - {i.message}" for i in issues[:10])
        raise SemanticQueryError(f"MetricFlow rejected the semantic section:\n{detail}",
                                 hint="fix the semantic: section of floe.yaml (see the messages above)")
    return MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(built.semantic_manifest),
                            sql_client=DuckDBSqlClient(con))


def plan_sql(engine: Any, query: ResolvedQuery, spec: SemanticSpec | None = None) -> str:
    """The DuckDB SQL MetricFlow generates for ``query``.

    Raises:
        SemanticQueryError: MetricFlow refused the query (e.g. a dimension not reachable from a metric).
    """
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    request = MetricFlowQueryRequest.create(
        metric_names=query.metrics, group_by_names=query.group_by or None, where_constraints=query.where or None,
        order_by_names=query.order_by or None, limit=query.limit)
    try:
        explained = engine.explain(mf_request=request)
    except Exception as exc:  # resolution errors, and jinja/parser errors from a malformed --where
        text = _floe_names(spec, str(exc)) if spec is not None else str(exc)
        hint = ("write --where as SQL over dimension names (`floe semantic list` shows them)"
                if "where filter" in text else
                "check that each --group-by is reachable from every metric through the entities (joins) "
                "declared in floe.yaml; `floe semantic list` shows them")
        raise SemanticQueryError(f"MetricFlow cannot answer this query:\n{_first_lines(text, 30)}",
                                 hint=hint) from exc
    return str(explained.sql_statement.without_descriptions.sql)


def new_connection(namespace: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with an empty ``namespace`` schema and the day time spine MetricFlow expects."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f'CREATE SCHEMA "{namespace}"')
    con.execute(f'CREATE SCHEMA "{TIME_SPINE_SCHEMA}"')
    con.execute(  # days 1900-2100: MetricFlow joins to it only for time-spine features
        f'CREATE TABLE "{TIME_SPINE_SCHEMA}"."{TIME_SPINE_TABLE}" AS SELECT CAST(range AS DATE) AS '  # noqa: S608
        f"{TIME_SPINE_COLUMN} FROM range(DATE '1900-01-01', DATE '2100-01-01', INTERVAL 1 DAY)")
    return con


def connect(ctx: QueriedProduct, spec: SemanticSpec) -> duckdb.DuckDBPyConnection:
    """:func:`new_connection` holding each table the section reads (declared columns only), from Iceberg."""
    namespace = ctx.artifacts.identity.namespace
    catalog = ctx.catalog()
    con = new_connection(namespace)
    by_table: dict[str, list[str]] = {}
    for sm in spec.models:
        by_table.setdefault(sm.model, [])
        by_table[sm.model] += [c for c in sm.columns() if c not in by_table[sm.model]]
    for table, columns in by_table.items():
        data = _scan(catalog, f"{namespace}.{table}", columns, ctx.artifacts.metadata.product_name)
        con.register("__floe_scan", data)
        # names are validated identifiers from floe.yaml, not user input at query time
        con.execute(f'CREATE TABLE "{namespace}"."{table}" AS SELECT * FROM __floe_scan')  # noqa: S608
        con.unregister("__floe_scan")
    return con


def _scan(catalog: Any, identifier: str, columns: list[str], product: str) -> Any:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError as exc:
        raise FloeError(f"table {identifier} is not in the catalog yet", hint=f"run the product first: "
                        f"`floe run {product}` (with the same --manifest)") from exc
    have = {f.name for f in table.schema().fields}
    missing = [c for c in columns if c not in have]
    if missing:
        raise SemanticQueryError(f"table {identifier} has no column(s) {missing}",
                                 hint=f"its columns are {sorted(have)}; rerun the product if the model changed, "
                                      f"or fix the semantic section")
    return table.scan(selected_fields=tuple(columns)).to_arrow()


def execute(ctx: QueriedProduct, spec: SemanticSpec, query: ResolvedQuery) -> QueryResult:
    """Plan ``query`` with MetricFlow and run it in DuckDB over the product's Iceberg tables."""
    _require_metricflow()
    _quiet_metricflow()
    con = connect(ctx, spec)
    try:
        return run_sql(con, spec, ctx.artifacts.identity.namespace, query)
    finally:
        con.close()


def run_sql(con: duckdb.DuckDBPyConnection, spec: SemanticSpec, namespace: str, query: ResolvedQuery) -> QueryResult:
    """Plan ``query`` with MetricFlow and run it on ``con``, whose ``namespace`` schema holds the tables."""
    _require_metricflow()
    _quiet_metricflow()
    import duckdb

    sql = plan_sql(build_engine(spec, namespace, con), query, spec)
    try:
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise SemanticQueryError(f"DuckDB could not run the SQL MetricFlow generated: {exc}",
                                 hint="check --where: SQL over dimension names, text values in quotes "
                                      "(`--explain` prints the SQL)") from exc
    mf_columns = [d[0] for d in cur.description]
    fetched = cur.fetchall()
    # MetricFlow may reorder the group-bys; answer in the order asked: group-bys, then metrics.
    wanted = [c for c in [*query.group_by, *query.metrics] if c in mf_columns]
    order = [mf_columns.index(c) for c in wanted] + [i for i, c in enumerate(mf_columns) if c not in wanted]
    rows = [tuple(r[i] for i in order) for r in fetched]
    return QueryResult(columns=[query.column_names.get(mf_columns[i], mf_columns[i]) for i in order], rows=rows,
                       sql=sql)


def _quiet_metricflow() -> None:
    # MetricFlow logs every plan step at INFO; a CLI user wants the table.
    for name in ("metricflow", "metricflow_semantics", "metricflow_semantic_interfaces"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _floe_names(spec: SemanticSpec, text: str) -> str:
    """MetricFlow's qualified names (``customer__segment``) back to the names floe.yaml declares."""
    names = {f"{m.primary_entity.name}__{d.name}": d.name for m, d in spec.dimensions()}

    def back(match: re.Match[str]) -> str:
        word = match.group(0)
        for qualified, name in names.items():
            if word == qualified or word.startswith(qualified + "__"):
                return name + word[len(qualified):]
        return word

    return re.sub(r"\b[a-z][a-z0-9_]*__[a-z0-9_]+\b", back, text)


def _first_lines(text: str, limit: int = 12) -> str:
    """The first ``limit`` non-blank lines, without the Python tracebacks MetricFlow embeds in messages."""
    lines: list[str] = []
    skip_code = False
    for ln in text.strip().splitlines():
        bare = ln.strip()
        if skip_code or not bare or bare.startswith("Traceback (most recent call last)") or bare.startswith("^"):
            skip_code = False
            continue
        if bare.startswith('File "'):
            skip_code = True  # the next line is the source line of that frame
            continue
        lines.append(ln)
    return "\n".join(lines[:limit]) + ("\n  ..." if len(lines) > limit else "")


def explain_sql(spec: SemanticSpec, namespace: str, query: ResolvedQuery) -> str:
    """The SQL MetricFlow would run for ``query``; reads no table."""
    _require_metricflow()
    _quiet_metricflow()
    con = new_connection(namespace)
    try:
        return plan_sql(build_engine(spec, namespace, con), query, spec)
    finally:
        con.close()
