"""Iceberg publishing: a run's local DuckDB tables -> PyIceberg, staged and committed together (write-audit-publish)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Any

from floe._iceberg import StagedTable, _iceberg_compatible, open_catalog
from floe.errors import RuntimeFailure
from floe.runtime.context import OWNER_PROPERTY, RunContext

RUN_PROPERTY = "floe.run"
"""Snapshot summary property: the run that published the snapshot (its OpenLineage run id)."""


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


def publish_tables(ctx: RunContext, names: Iterable[tuple[str, str]], *, run_id: str = "",
                   full_refresh: Set[str] = frozenset(), log: Any = None) -> list[ExportedTable]:
    """Publish ``(schema, table)`` pairs of the run's DuckDB file to Iceberg, all together: each table's
    new contents are staged first (data files written, nothing visible), then the catalog plugin
    commits them (``CatalogPlugin.commit_tables``: one commit for the product where the catalog can).

    A column dropped or retyped (other than widened) follows governance.schema_changes, except in the
    ``full_refresh`` tables (``schema.table``), which take every change; a blocked change stages nothing.
    A failed commit publishes nothing, and tables this publish created (empty) are dropped again.
    Every snapshot it commits names ``run_id`` in its summary (``floe.run``).

    Raises:
        RuntimeFailure: a blocked schema change, or a refused commit; nothing was published.
    """
    import duckdb
    from pyiceberg.exceptions import CommitFailedException

    from floe._iceberg import catalog_errors

    started = time.time()
    catalog = load_catalog(ctx)
    props = ctx.table_properties()
    pairs = list(names)
    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    staged: list[StagedTable] = []
    try:
        with catalog_errors(catalog.properties.get("uri"), "publishing the run's tables"):
            idents = [f"{schema}.{table}" for schema, table in pairs]
            existing = {i: catalog.load_table(i) for i in idents if catalog.table_exists(i)}
            check_ownership(ctx, existing)  # another folder may have taken them since the run started
            changes = _schema_changes(existing, con, ctx, full_refresh, log)
            published: list[ExportedTable] = []
            for schema, table in pairs:
                ident = f"{schema}.{table}"
                data = _iceberg_compatible(read_local_table(con, ctx, schema, table))
                staged.append(_stage(catalog, ident, existing.get(ident), data, props, changes.get(ident), run_id))
                published.append(ExportedTable(ident, data.num_rows, tuple((f.name, str(f.type)) for f in data.schema)))
            ctx.catalog_plugin().commit_tables(catalog, staged)
    except CommitFailedException as exc:
        _clean_up(catalog, staged, started, log)
        raise RuntimeFailure(f"the catalog refused this run's publish, so it published nothing: {exc}",
                             hint="another run of this product may have published meanwhile; run it again") from None
    except BaseException:
        _clean_up(catalog, staged, started, log)
        raise
    finally:
        con.close()
    return published


@dataclass(frozen=True)
class _SchemaChange:
    """What of a published table's schema a run changes beyond adding columns and widening types."""

    dropped: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()
    """``(column, published type, new type)``"""


def _stage(catalog: Any, ident: str, table: Any, data: Any, props: dict[str, str], change: _SchemaChange | None,
           run_id: str) -> StagedTable:
    """``ident``'s change to hold ``data``, written but not committed: dropped and retyped columns are
    deleted (a retyped one comes back with its new type and a new field id), new ones added by name.
    ``table`` is the published table (None: the publish creates it, empty)."""
    from pyiceberg.table.update import AssertTableUUID

    created = table is None
    if table is None:
        namespace = ident.rsplit(".", 1)[0]
        # asked first: a per-product principal may read its namespace (bootstrap made it) but not create one
        if not catalog.namespace_exists(namespace):
            catalog.create_namespace_if_not_exists(namespace)
        table = catalog.create_table(ident, schema=data.schema, properties=props)
    previous = table.current_snapshot()
    tx = table.transaction()
    if not created:
        if change is not None:
            with tx.update_schema() as update:
                for column in [*change.dropped, *(c for c, _, _ in change.retyped)]:
                    update.delete_column(column)
        with tx.update_schema() as update:
            update.union_by_name(data.schema)
        if any(table.properties.get(k) != v for k, v in props.items()):
            tx.set_properties(props)
    summary = {RUN_PROPERTY: run_id} if run_id else {}
    if previous is None:
        tx.append(data, snapshot_properties=summary)  # nothing to replace (an overwrite would warn it deleted nothing)
    else:
        tx.overwrite(data, snapshot_properties=summary)
    # what Transaction.commit_transaction adds itself: the change applies to this very table
    requirements = (*tx._requirements, AssertTableUUID(uuid=table.metadata.table_uuid))
    return StagedTable(ident, table, requirements, tx._updates,
                       previous.snapshot_id if previous is not None else None, created)


def _schema_changes(existing: dict[str, Any], con: Any, ctx: RunContext, full_refresh: Set[str],
                    log: Any) -> dict[str, _SchemaChange]:
    """Each published table's dropped and retyped columns (Iceberg widens int -> long, float -> double and
    decimal precision in place; any other type change is a retype), judged by governance.schema_changes
    before anything is staged: ``warn`` is logged, ``block`` raises; a full-refresh table takes them all.

    Raises:
        RuntimeFailure: a blocked change, naming each table and column (with both types) and the way out.
    """
    from pyiceberg.exceptions import ResolveError
    from pyiceberg.schema import promote

    policy = ctx.artifacts.governance.schema_changes
    changes: dict[str, _SchemaChange] = {}
    blocked: list[tuple[str, str]] = []  # (table, what)
    db = ctx.duckdb_path.stem
    for ident, published in existing.items():
        schema, table = ident.rsplit(".", 1)
        empty = con.execute(f'select * from "{db}"."{schema}"."{table}" limit 0').to_arrow_table()  # noqa: S608
        built = published.catalog._convert_schema_if_needed(_iceberg_compatible(empty).schema)
        new = {f.name: f.field_type for f in built.fields}
        old = {f.name: f.field_type for f in published.schema().fields}
        dropped = tuple(name for name in old if name not in new)
        retyped = []
        for name, was in old.items():
            now = new.get(name)
            if now is None or now == was:
                continue
            try:
                promote(was, now)  # a widening evolves in place
            except ResolveError:
                retyped.append((name, str(was), str(now)))
        if not dropped and not retyped:
            continue
        changes[ident] = _SchemaChange(dropped, tuple(retyped))
        found = [(f"{ident}.{c}: dropped", policy.dropped_columns, "dropped_columns") for c in dropped]
        found += [(f"{ident}.{c}: {was} -> {now}", policy.type_changes, "type_changes") for c, was, now in retyped]
        for what, verdict, key in found:
            if ident in full_refresh or verdict == "allow":
                continue
            if verdict == "block":
                blocked.append((table, f"{what} (schema_changes.{key}: block)"))
            elif log is not None:
                log.warning(f"schema change published: {what} (older snapshots keep the old column)")
    if blocked:
        refresh = " ".join(f"--full-refresh {m}" for m in sorted({table for table, _ in blocked}))
        raise RuntimeFailure(
            f"this run changes {len(blocked)} published column(s) in a way governance blocks, so it publishes "
            f"nothing: {'; '.join(what for _, what in blocked)}",
            hint=f"to publish the new schema (older snapshots keep the old one): "
                 f"floe run {ctx.artifacts.identity.folder or ctx.project_dir.name} {refresh}; or keep the "
                 "column's type and name in the model")
    return changes


def check_ownership(ctx: RunContext, tables: dict[str, Any] | None = None, *, take_over: bool = False) -> None:
    """The product's tables belong to the product folder that published them (``floe.owner``): a second
    folder with the same metadata.name fails here, before it writes anything, naming both folders.

    Args:
        tables: the published tables to check, loaded; None: every table of the product, from its catalog.
        take_over: record this folder as the owner of the tables another folder owns (a moved product).

    Raises:
        RuntimeFailure: a table is owned by another folder (and ``take_over`` is not set).
    """
    ours = ctx.artifacts.identity.folder
    if not ours:
        return
    if tables is None:
        catalog = load_catalog(ctx)
        tables = {i: catalog.load_table(i) for i in ctx.table_identifiers() if catalog.table_exists(i)}
    others = {ident: t for ident, t in tables.items() if t.properties.get(OWNER_PROPERTY, ours) != ours}
    if not others:
        return
    if take_over:
        for table in others.values():
            with table.transaction() as tx:
                tx.set_properties({OWNER_PROPERTY: ours})
        return
    owners = sorted({t.properties[OWNER_PROPERTY] for t in others.values()})
    name = ctx.artifacts.metadata.product_name
    raise RuntimeFailure(
        f"{name}: {len(others)} of its tables were published by the product folder {', '.join(owners)}, not by "
        f"this one ({ours}), so this run writes nothing: {', '.join(sorted(others))}",
        hint=f"two folders share metadata.name {name!r}: give {ours}/floe.yaml a name of its own; if the product "
             f"moved from {owners[0]} to {ours}, run `floe run {ours} --take-over` once")


def local_tables(ctx: RunContext) -> set[tuple[str, str]]:
    """``(schema, table)`` of every table and view in the run's DuckDB file."""
    import duckdb

    con = duckdb.connect(str(ctx.duckdb_path), read_only=True)
    try:
        rows = con.execute("select table_schema, table_name from information_schema.tables where table_catalog = ?",
                           [ctx.duckdb_path.stem]).fetchall()
    finally:
        con.close()
    return {(schema, table) for schema, table in rows}


def drop_local_tables(ctx: RunContext, names: Iterable[tuple[str, str]]) -> None:
    """Drop ``(schema, table)`` relations from the run's DuckDB file (a full refresh: dbt builds them
    again from all of their input, a seed with its new column types)."""
    pairs = list(names)
    if not pairs or not ctx.duckdb_path.exists():
        return
    import duckdb

    db = ctx.duckdb_path.stem
    con = duckdb.connect(str(ctx.duckdb_path))
    try:
        for schema, table in pairs:
            row = con.execute("select table_type from information_schema.tables where table_catalog = ? "
                              "and table_schema = ? and table_name = ?", [db, schema, table]).fetchone()
            if row is not None:
                kind = "view" if row[0] == "VIEW" else "table"
                con.execute(f'drop {kind} "{db}"."{schema}"."{table}"')
    finally:
        con.close()


def _clean_up(catalog: Any, staged: list[StagedTable], since: float, log: Any) -> None:
    """After a publish that failed: drop the tables it created (still empty), delete the files it
    staged in the others. Never in place of the publish's own error: what is left is said, and the
    next run removes it (runtime.recovery)."""
    from floe.runtime.recovery import remove_unpublished_files

    try:
        kept = []
        for s in staged:
            table = catalog.load_table(s.identifier) if catalog.table_exists(s.identifier) else None
            if table is None:
                continue
            if s.created and table.current_snapshot() is None:  # still empty: nothing of it was published
                catalog.drop_table(s.identifier)
            else:
                kept.append(table)
        removed = remove_unpublished_files(kept, since)
        if removed and log is not None:
            log.warning(f"floe: removed the {removed} file(s) this run had staged in the catalog")
    except Exception as exc:
        if log is not None:
            log.warning(f"floe: the files this run staged were not removed ({type(exc).__name__}: {exc}); "
                        "the product's next run removes them")


def row_counts(ctx: RunContext, identifiers: Iterable[str]) -> dict[str, int]:
    catalog = load_catalog(ctx)
    counts = {}
    for ident in identifiers:
        tbl = catalog.load_table(ident)
        # count() applies delete files (DuckDB's DELETE writes them), unlike summing data-file counts
        counts[ident] = tbl.scan().count()
    return counts


def stage_for_dbt(ctx: RunContext, staging: Any, identifiers: Iterable[str]) -> None:
    """Copy the ingested tables of the run's staging catalog into its DuckDB file (where dbt builds,
    and what the run publishes) under the same ``<namespace>.<table>``, as seeds are, so a model's
    ``source()`` resolves there."""
    import duckdb

    con = duckdb.connect(str(ctx.duckdb_path))
    try:
        for ident in identifiers:
            if not staging.table_exists(ident):
                continue  # the source returned nothing and was never published: dbt says what is missing
            schema, table = ident.rsplit(".", 1)
            data = staging.load_table(ident).scan().to_arrow()
            con.execute(f'create schema if not exists "{schema}"')
            con.register("floe_ingested", data)
            con.execute(f'create or replace table "{schema}"."{table}" as select * from floe_ingested')  # noqa: S608
            con.unregister("floe_ingested")
    finally:
        con.close()
