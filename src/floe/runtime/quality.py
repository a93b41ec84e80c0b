"""The quality step of a product run: after its models, before the run publishes them.

The manifest's quality plugin plans the run (whether the dbt tests run, whether a failure blocks) and
verifies the product's check files (floe.yaml ``quality.checks``) on the tables this run built: on
the embedded default they are still in the run's DuckDB file, unpublished; when dbt writes through the
catalog they are read from it. One span ``floe.quality <product>`` per step.
"""

from __future__ import annotations

from typing import Any, cast

from floe.contract import ResolvedCheck
from floe.errors import RuntimeFailure
from floe.plugins.interfaces import CheckOutcome, QualityPlan, QualityPlugin
from floe.plugins.types import PluginType
from floe.runtime.context import RunContext


def quality_plugin(ctx: RunContext) -> QualityPlugin | None:
    if ctx.artifacts.plugins.quality is None:
        return None
    return cast(QualityPlugin, ctx.plugin(PluginType.QUALITY))


def quality_plan(ctx: RunContext) -> QualityPlan:
    """The artifacts' quality plugin's plan; without one, the dbt tests run and governance decides."""
    plugin = quality_plugin(ctx)
    if plugin is None:
        return QualityPlan(dbt_tests=True, blocking=ctx.artifacts.governance.block_on_failure)
    return plugin.plan(ctx.artifacts)


def check_quality(ctx: RunContext, plan: QualityPlan, log: Any) -> list[CheckOutcome]:
    """Guard against emptied tables (:func:`guard_volumes`), then verify the product's check files: a
    failed check raises when the plan blocks (nothing of this run is published then), and is logged as a
    warning otherwise.

    Raises:
        RuntimeFailure: a check failed and the plan blocks; the message names each failed check.
    """
    from opentelemetry.trace import Status, StatusCode

    from floe.telemetry import flush, product_tracer

    a = ctx.artifacts
    guard_volumes(ctx, log)
    plugin = quality_plugin(ctx)
    if plugin is None or not a.quality_checks:
        return []
    obs = a.observability
    tracer = product_tracer(obs.service_name, obs.otlp_endpoint if obs.tracing_enabled else None, obs.otlp_protocol)
    try:
        with tracer.start_as_current_span(f"floe.quality {a.metadata.product_name}", attributes={
            "floe.product": a.metadata.product_name, "floe.quality.plugin": plugin.name,
            "floe.quality.files": [c.file for c in a.quality_checks], "floe.quality.blocking": plan.blocking,
        }) as span:
            outcomes = plugin.run_checks(a.quality_checks, lambda check: _read(ctx, check))
            failed = [o for o in outcomes if not o.passed]
            span.set_attribute("floe.quality.checks", len(outcomes))
            span.set_attribute("floe.quality.failed", len(failed))
            for o in outcomes:
                line = f"quality {o.model}: {o.check}: {'passed' if o.passed else 'FAILED'}"
                (log.info if o.passed else log.warning)(f"{line}{f' ({o.detail})' if o.detail else ''}")
            if failed:
                span.set_status(Status(StatusCode.ERROR, f"{len(failed)} quality check(s) failed"))
            if failed and plan.blocking:
                listed = "; ".join(f"{o.model}: {o.check}{f' ({o.detail})' if o.detail else ''}" for o in failed)
                raise RuntimeFailure(
                    f"{len(failed)} quality check(s) failed, so this run publishes nothing: {listed}",
                    hint="fix the data or the model, or the check file (floe.yaml quality.checks); a platform "
                         "whose governance sets block_on_failure: false only reports them")
    finally:
        flush()
    return outcomes


def guard_volumes(ctx: RunContext, log: Any) -> None:
    """Before publishing local tables (the embedded default): a seed or model whose published table has
    rows and that this run built empty (a header-only seed, a source that returned nothing) fails the
    run, unless floe.yaml lists it under ``quality.allow_empty``. Tests pass on empty tables; this does not.

    Raises:
        RuntimeFailure: naming each table, its published and its new row count.
    """
    import duckdb

    a = ctx.artifacts
    allowed = set(a.quality_allow_empty)
    tables = [(a.identity.raw_namespace, s) for s in a.transforms.seeds if s not in allowed]
    tables += [(a.identity.namespace, m.name) for m in a.transforms.models if m.name not in allowed]
    catalog: Any = None  # opened only when a table came out empty (rare)
    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    emptied: list[str] = []
    try:
        db = ctx.duckdb_path.stem
        for schema, table in tables:
            ident = f"{schema}.{table}"
            row = con.execute(f'select count(*) from "{db}"."{schema}"."{table}"').fetchone()  # noqa: S608
            if row is None or row[0] > 0:
                continue
            catalog = catalog or ctx.catalog()
            if not catalog.table_exists(ident):
                continue
            published = catalog.load_table(ident)
            rows = published.scan().count() if published.current_snapshot() is not None else 0
            if rows:
                emptied.append(f"{ident} ({rows} rows published, 0 in this run)")
    finally:
        con.close()
    for line in emptied:
        log.warning(f"quality volume: {line}")
    if emptied:
        raise RuntimeFailure(
            f"this run would empty {len(emptied)} published table(s), so it publishes nothing: {'; '.join(emptied)}",
            hint="check the seed or source feeding it (a header-only CSV, a source that returned no rows); if the "
                 "table may really be emptied, list it under quality.allow_empty in floe.yaml")


def _read(ctx: RunContext, check: ResolvedCheck) -> Any:
    """The check's table as this run built it (Arrow)."""
    schema, table = check.table.split(".", 1)
    import duckdb

    from floe.runtime.iceberg import read_local_table

    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    try:
        return read_local_table(con, ctx, schema, table)
    finally:
        con.close()
