"""Iceberg writes for the embedded default: DuckDB tables -> PyIceberg (SQLite catalog, local files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from floe._iceberg import StagedTable, _iceberg_compatible, open_catalog
from floe.errors import RuntimeFailure
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


def publish_tables(ctx: RunContext, names: Iterable[tuple[str, str]]) -> list[ExportedTable]:
    """Publish ``(schema, table)`` pairs of the run's DuckDB file to Iceberg, all together: each table's
    new contents are staged first (data files written, nothing visible), then the catalog plugin
    commits them (``CatalogPlugin.commit_tables``: one commit for the product where the catalog can).

    Nothing is staged when a column's type changed in a way its Iceberg table cannot take; a failed
    commit publishes nothing, and tables this publish created (empty) are dropped again.

    Raises:
        RuntimeFailure: a column type changed, or the commit was refused; nothing was published.
    """
    import duckdb
    from pyiceberg.exceptions import CommitFailedException

    from floe._iceberg import catalog_errors

    catalog = load_catalog(ctx)
    props = ctx.table_properties()
    pairs = list(names)
    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    staged: list[StagedTable] = []
    try:
        with catalog_errors(catalog.properties.get("uri"), "publishing the run's tables"):
            _check_types(catalog, con, ctx, pairs)
            published: list[ExportedTable] = []
            for schema, table in pairs:
                data = _iceberg_compatible(read_local_table(con, ctx, schema, table))
                staged.append(_stage(catalog, f"{schema}.{table}", data, props))
                published.append(ExportedTable(f"{schema}.{table}", data.num_rows,
                                               tuple((f.name, str(f.type)) for f in data.schema)))
            ctx.catalog_plugin().commit_tables(catalog, staged)
    except CommitFailedException as exc:
        _drop_created(catalog, staged)
        raise RuntimeFailure(f"the catalog refused this run's publish, so it published nothing: {exc}",
                             hint="another run of this product may have published meanwhile; run it again") from None
    except BaseException:
        _drop_created(catalog, staged)
        raise
    finally:
        con.close()
    return published


def _stage(catalog: Any, ident: str, data: Any, props: dict[str, str]) -> StagedTable:
    """``ident``'s change to hold ``data`` (columns added by name), written but not committed."""
    from pyiceberg.table.update import AssertTableUUID

    namespace = ident.rsplit(".", 1)[0]
    # asked first: a per-product principal may read its namespace (bootstrap made it) but not create one
    if not catalog.namespace_exists(namespace):
        catalog.create_namespace_if_not_exists(namespace)
    created = not catalog.table_exists(ident)
    table = (catalog.create_table(ident, schema=data.schema, properties=props) if created
             else catalog.load_table(ident))
    previous = table.current_snapshot()
    tx = table.transaction()
    if not created:
        with tx.update_schema() as update:
            update.union_by_name(data.schema)
        if any(table.properties.get(k) != v for k, v in props.items()):
            tx.set_properties(props)
    if previous is None:
        tx.append(data)  # nothing to replace (an overwrite would warn that it deleted nothing)
    else:
        tx.overwrite(data)
    # what Transaction.commit_transaction adds itself: the change applies to this very table
    requirements = (*tx._requirements, AssertTableUUID(uuid=table.metadata.table_uuid))
    return StagedTable(ident, table, requirements, tx._updates,
                       previous.snapshot_id if previous is not None else None, created)


def _check_types(catalog: Any, con: Any, ctx: RunContext, pairs: list[tuple[str, str]]) -> None:
    """Every column type change the published tables cannot take (Iceberg widens int -> long, float ->
    double, decimal precision; nothing else), found before anything is staged.

    Raises:
        RuntimeFailure: naming each table and column with both types.
    """
    from pyiceberg.exceptions import ValidationError

    problems = []
    for schema, table in pairs:
        ident = f"{schema}.{table}"
        if not catalog.table_exists(ident):
            continue
        db = ctx.duckdb_path.stem
        empty = con.execute(f'select * from "{db}"."{schema}"."{table}" limit 0').to_arrow_table()  # noqa: S608
        try:  # a dry run: the update is checked and never committed
            catalog.load_table(ident).update_schema().union_by_name(_iceberg_compatible(empty).schema)
        except ValidationError as exc:
            problems.append(f"{ident}: {exc}")
    if problems:
        raise RuntimeFailure(
            f"{len(problems)} published table(s) cannot take this run's column types, so it publishes nothing: "
            + "; ".join(problems),
            hint="cast the column back to its published type in the model, or publish it under a new column "
                 "name (Iceberg widens int to bigint, float to double and decimal precision only)")


def _drop_created(catalog: Any, staged: list[StagedTable]) -> None:
    for s in staged:
        if s.created and catalog.table_exists(s.identifier):
            table = catalog.load_table(s.identifier)
            if table.current_snapshot() is None:  # still empty: nothing of it was published
                catalog.drop_table(s.identifier)


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
