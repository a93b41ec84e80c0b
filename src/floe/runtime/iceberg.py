"""Iceberg writes for the embedded default: DuckDB tables -> PyIceberg (SQLite catalog, local files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from floe._iceberg import _iceberg_compatible, open_catalog, write_arrow
from floe.runtime.context import RunContext


@dataclass(frozen=True)
class ExportedTable:
    identifier: str
    rows: int
    columns: tuple[tuple[str, str], ...] = ()


def load_catalog(ctx: RunContext) -> Any:
    """The product's Iceberg catalog; 401/403 become typed floe errors."""
    return open_catalog(ctx.catalog_name, ctx.catalog_properties())


def read_local_table(con: Any, ctx: RunContext, schema: str, table: str) -> Any:
    """``schema.table`` of the run's DuckDB file (open as ``con``), as Arrow."""
    db = ctx.duckdb_path.stem
    return con.execute(f'select * from "{db}"."{schema}"."{table}"').to_arrow_table()  # noqa: S608


def export_tables(ctx: RunContext, names: Iterable[tuple[str, str]]) -> list[ExportedTable]:
    """Copy ``(schema, table)`` pairs from the run's DuckDB file into Iceberg, replacing contents.

    Each table is one Iceberg commit (overwrite), so a reader sees the old or the new data, never half.
    """
    import duckdb

    catalog = load_catalog(ctx)
    props = ctx.table_properties()
    exported: list[ExportedTable] = []
    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    try:
        for schema, table in names:
            data = _iceberg_compatible(read_local_table(con, ctx, schema, table))
            ident = f"{schema}.{table}"
            write_arrow(catalog, ident, data, properties=props)
            exported.append(ExportedTable(ident, data.num_rows, tuple((f.name, str(f.type)) for f in data.schema)))
    finally:
        con.close()
    return exported


def row_counts(ctx: RunContext, identifiers: Iterable[str]) -> dict[str, int]:
    catalog = load_catalog(ctx)
    counts = {}
    for ident in identifiers:
        tbl = catalog.load_table(ident)
        # count() applies delete files (DuckDB's DELETE writes them), unlike summing data-file counts
        counts[ident] = tbl.scan().count()
    return counts


def apply_table_properties(ctx: RunContext, identifiers: Iterable[str]) -> None:
    """Tables dbt wrote straight into the catalog get the governance properties (one commit each,
    only when something changes)."""
    catalog = load_catalog(ctx)
    wanted = ctx.table_properties()
    for ident in identifiers:
        if not catalog.table_exists(ident):
            continue
        table = catalog.load_table(ident)
        if any(table.properties.get(k) != v for k, v in wanted.items()):
            with table.transaction() as tx:
                tx.set_properties(wanted)


def stage_for_dbt(ctx: RunContext, identifiers: Iterable[str]) -> None:
    """Where dbt reads local DuckDB tables (the embedded default), copy ingested Iceberg tables into
    the run's DuckDB file under the same ``<namespace>.<table>``, as seeds are, so a model's
    ``source()`` resolves there exactly as it does against an attached catalog."""
    if ctx.artifacts.dbt.vars.get("floe_materialized") != "table":
        return  # dbt attaches the catalog and reads the Iceberg tables themselves
    import duckdb

    catalog = load_catalog(ctx)
    con = duckdb.connect(str(ctx.duckdb_path))
    try:
        for ident in identifiers:
            schema, table = ident.rsplit(".", 1)
            data = catalog.load_table(ident).scan().to_arrow()
            con.execute(f'create schema if not exists "{schema}"')
            con.register("floe_ingested", data)
            con.execute(f'create or replace table "{schema}"."{table}" as select * from floe_ingested')  # noqa: S608
            con.unregister("floe_ingested")
    finally:
        con.close()
