"""Iceberg writes for the embedded default: DuckDB tables -> PyIceberg (SQLite catalog, local files)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from floe.runtime.context import RunContext


@dataclass(frozen=True)
class ExportedTable:
    identifier: str
    rows: int
    columns: tuple[tuple[str, str], ...] = ()


def load_catalog(ctx: RunContext) -> Any:
    """The product's Iceberg catalog; 401/403 become typed floe errors."""
    return open_catalog(ctx.catalog_name, ctx.catalog_properties())


def open_catalog(name: str, props: Mapping[str, str]) -> Any:
    """A PyIceberg catalog from resolved properties; 401/403 become typed floe errors (the message
    names the catalog's URI, never a credential)."""
    from pyiceberg.catalog import load_catalog as _load

    with catalog_errors(props.get("uri")):
        return _load(name, **props)


@contextmanager
def catalog_errors(uri: str | None, doing: str = "") -> Iterator[None]:
    """The catalog's 401/403 answers as floe's AuthenticationError/AuthorizationError, naming the
    catalog's URI and what was refused (``doing``), never a credential."""
    from pyiceberg.exceptions import ForbiddenError, OAuthError, UnauthorizedError

    from floe.errors import AuthenticationError, AuthorizationError

    try:
        yield
    except (UnauthorizedError, OAuthError) as exc:
        raise AuthenticationError(f"catalog {uri} rejected the credentials{f' ({doing})' if doing else ''}: {exc}",
                                  hint="check the catalog client id/secret references in manifest.yaml") from exc
    except ForbiddenError as exc:
        raise AuthorizationError(f"catalog {uri} refused {doing or 'access'}: {exc}",
                                 hint="grant the product's principal access to its namespaces") from exc


def write_arrow(catalog: Any, ident: str, data: Any, *, mode: str = "replace", join_cols: Sequence[str] = (),
                properties: Mapping[str, str] | None = None) -> Any:
    """Write an Arrow table into the Iceberg table ``ident`` (created when missing) in one data commit.

    Args:
        mode: ``replace`` (the table holds ``data``), ``append`` (``data`` is added) or ``merge``
            (rows whose ``join_cols`` match are updated, the others inserted).
        properties: table properties of a table this creates.

    Returns:
        The Iceberg table after the commit. Columns ``data`` adds are added first (their own commit).
    """
    with catalog_errors(catalog.properties.get("uri"), f"writing {ident}"):
        return _write_arrow(catalog, ident, _iceberg_compatible(data), mode, join_cols, properties or {})


def _write_arrow(catalog: Any, ident: str, data: Any, mode: str, join_cols: Sequence[str],
                 properties: Mapping[str, str]) -> Any:
    namespace = ident.rsplit(".", 1)[0]
    # asked first: a per-product principal may read its namespace (bootstrap made it) but not create
    # one; created tolerating a concurrent creator
    if not catalog.namespace_exists(namespace):
        catalog.create_namespace_if_not_exists(namespace)
    if not catalog.table_exists(ident):
        table = catalog.create_table(ident, schema=data.schema, properties=dict(properties))
        table.append(data)
        return table
    table = catalog.load_table(ident)
    known = {f.name for f in table.schema().fields}
    if any(name not in known for name in data.schema.names) or mode == "replace":
        with table.update_schema() as update:
            update.union_by_name(data.schema)
    if mode == "replace":
        table.overwrite(data)
    elif mode == "append":
        table.append(data)
    else:
        table.upsert(data, join_cols=list(join_cols))
    return table


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
            db = ctx.duckdb_path.stem
            data = con.execute(f'select * from "{db}"."{schema}"."{table}"').to_arrow_table()  # noqa: S608
            data = _iceberg_compatible(data)
            ident = f"{schema}.{table}"
            write_arrow(catalog, ident, data, properties=props)
            exported.append(ExportedTable(ident, data.num_rows, tuple((f.name, str(f.type)) for f in data.schema)))
    finally:
        con.close()
    return exported


def _iceberg_compatible(table: Any) -> Any:
    """Iceberg has no unsigned ints, nanosecond or zoned-naive mixes; cast the few DuckDB types that differ."""
    import pyarrow as pa

    fields = []
    changed = False
    for f in table.schema:
        t = f.type
        if pa.types.is_timestamp(t) and t.unit != "us":
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_uint8(t) or pa.types.is_uint16(t) or pa.types.is_int8(t) or pa.types.is_int16(t):
            t = pa.int32()
        elif pa.types.is_uint32(t) or pa.types.is_uint64(t):
            t = pa.int64()
        elif pa.types.is_large_string(t):
            t = pa.string()
        changed |= t != f.type
        fields.append(pa.field(f.name, t, nullable=True))
    return table.cast(pa.schema(fields)) if changed else table


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
