"""The ingestion step of a product run: the product's sources into ``<product>_raw``, before dbt.

The ingestion plugin lands each source as an Iceberg table in the run's staging catalog (a SQLite
catalog of its own beside the compiled artifacts, holding the published version of each appended or merged table
first), never in the product's catalog; the tables are then copied into the run's DuckDB file, where
dbt reads its raw tables, and the run publishes them with its seeds and models, all in one commit
(write-audit-publish). One span ``floe.ingest <product>`` (a child span per table) and one
OpenLineage run of the job ``<slug>_ingest`` (sources in, raw tables out) per step.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from floe.plugins.interfaces import IngestedTable, SecretResolver
from floe.runtime.context import RunContext


def ingestion_working_dir(ctx: RunContext) -> Path:
    """The ingestion plugin's state and scratch files: beside the compiled artifacts, in the target."""
    return ctx.out_dir / "ingest"


def staging_root(ctx: RunContext) -> Path:
    """Where a run's ingestion writes (beside the plugin's working folder, which is the plugin's own)."""
    return ctx.out_dir / "ingest-staging"


def staging_catalog(ctx: RunContext) -> Any:
    """A fresh SQLite catalog for this run's ingested tables (beside the compiled artifacts),
    holding the published version of every table a source appends to or merges into, so the plugin
    appends and merges there exactly as it would in the product's catalog."""
    from pyiceberg.catalog.sql import SqlCatalog

    from floe._iceberg import write_arrow

    root = staging_root(ctx)
    shutil.rmtree(root, ignore_errors=True)  # a failed or killed run's staging is never reused
    (root / "warehouse").mkdir(parents=True)
    staging = SqlCatalog(f"{ctx.catalog_name}-staging", uri=f"sqlite:///{root / 'catalog.db'}",
                         warehouse=(root / "warehouse").as_uri())
    published = ctx.catalog()
    for source in ctx.artifacts.ingestion:
        if source.write_disposition != "replace" and published.table_exists(source.table):
            write_arrow(staging, source.table, published.load_table(source.table).scan().to_arrow())
    return staging


def run_ingestion(ctx: RunContext) -> list[IngestedTable]:
    """Ingest every source of the artifacts; the dbt step depends on this one.

    Returns:
        The ingested tables, as the plugin landed them in the run's staging catalog (snapshot ids are
        that catalog's; the product's catalog gets them when the run publishes).

    Raises:
        RuntimeFailure: a source could not be read or committed (the message names it); nothing of
            any source reaches the product's catalog.
    """
    from opentelemetry.trace import Status, StatusCode

    from floe.lineage.emitter import LineageEmitter, TableRef, new_run_id
    from floe.runtime.iceberg import stage_for_dbt
    from floe.telemetry import flush, product_tracer

    a = ctx.artifacts
    if not a.ingestion:
        return []
    plugin = ctx.ingestion_plugin()  # compile refuses ingestion sources without one
    obs = a.observability
    tracer = product_tracer(obs.service_name, obs.otlp_endpoint if obs.tracing_enabled else None, obs.otlp_protocol)
    lineage = LineageEmitter(ctx.lineage_transport() if obs.lineage_enabled else None, obs.lineage_namespace)
    job, run_id = f"{a.identity.slug}_ingest", new_run_id()
    inputs = [TableRef(obs.lineage_namespace, _origin(s)) for s in a.ingestion]
    outputs = [TableRef(obs.lineage_namespace, s.table) for s in a.ingestion]
    lineage.emit("START", job, run_id, inputs=inputs, outputs=outputs)
    try:
        with tracer.start_as_current_span(f"floe.ingest {a.metadata.product_name}", attributes={
            "floe.product": a.metadata.product_name, "floe.ingestion.plugin": plugin.name,
            "floe.ingestion.tables": [s.table for s in a.ingestion],
        }) as span:
            started = time.time_ns()
            try:
                staging = staging_catalog(ctx)
                tables = plugin.ingest(
                    a.ingestion, catalog_name=staging.name, catalog_properties=staging.properties,
                    namespace=a.identity.raw_namespace, base_dir=ctx.out_dir, working_dir=ingestion_working_dir(ctx),
                    resolve=SecretResolver(ctx.secrets_plugin()), table_properties=ctx.table_properties(),
                )
                stage_for_dbt(ctx, staging, [s.table for s in a.ingestion])
                shutil.rmtree(staging_root(ctx), ignore_errors=True)  # all of it is in the local database now
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
                lineage.emit("FAIL", job, run_id, inputs=inputs, outputs=outputs)
                raise
            ended = time.time_ns()
            for t in tables:
                child = tracer.start_span(f"ingest {t.name}", start_time=started, attributes={
                    "floe.product": a.metadata.product_name, "floe.table": t.identifier, "floe.rows": t.rows,
                    "floe.ingestion.origin": t.origin,
                })
                child.end(end_time=ended)
            span.set_attribute("floe.rows", sum(t.rows for t in tables))
        lineage.emit("COMPLETE", job, run_id, inputs=inputs,
                     outputs=[TableRef(obs.lineage_namespace, t.identifier, list(t.columns)) for t in tables])
    finally:
        flush()
    return tables


def _origin(source: Any) -> str:
    if source.path is not None:  # a file source (the only kind with a path)
        return f"file:{source.display_path or source.path}"
    return f"{source.source}:{source.connection}/{source.resource}"
