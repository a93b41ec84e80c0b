"""Iceberg reads and writes floe shares between its runtime and its plugins (PyIceberg, imported
lazily): open a catalog with floe's errors for 401/403, and write an Arrow table in one commit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any


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
