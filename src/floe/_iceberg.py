"""Iceberg reads and writes floe shares between its runtime and its plugins (PyIceberg, imported
lazily): open a catalog with floe's errors for 401/403, and write an Arrow table in one commit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def open_catalog(name: str, props: Mapping[str, str]) -> Any:
    """A PyIceberg catalog from resolved properties; 401/403 become typed floe errors (the message
    names the catalog's URI, never a credential)."""
    from pyiceberg.catalog import load_catalog as _load

    with catalog_errors(props.get("uri")):
        return _load(name, **props)


@contextmanager
def catalog_errors(uri: str | None, doing: str = "") -> Iterator[None]:
    """The catalog's 401/403 answers as floe's AuthenticationError/AuthorizationError, and a catalog that
    cannot be reached as ServiceUnavailableError, naming the catalog's URI and what was refused or
    interrupted (``doing``), never a credential."""
    from pyiceberg.exceptions import ForbiddenError, OAuthError, UnauthorizedError
    from requests.exceptions import ConnectionError as Unreachable
    from requests.exceptions import Timeout

    from floe.errors import AuthenticationError, AuthorizationError, ServiceUnavailableError

    try:
        yield
    except (Unreachable, Timeout) as exc:
        raise ServiceUnavailableError(f"catalog {uri} cannot be reached{f' ({doing})' if doing else ''}: "
                                      f"{type(exc).__name__}",
                                      hint="is the catalog running? `floe platform status`") from None
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


@dataclass(frozen=True)
class StagedTable:
    """One table's change of a publish, written (data and manifest files) but not yet committed: no
    reader sees it until the catalog plugin commits it (``CatalogPlugin.commit_tables``)."""

    identifier: str
    table: Any
    """The PyIceberg table the change applies to (as loaded when it was staged)."""
    requirements: tuple[Any, ...]
    """What must still hold at commit (the table's uuid, its main branch's snapshot id)."""
    updates: tuple[Any, ...]
    previous_snapshot: int | None
    """The table's current snapshot when staged (None: it had none)."""
    created: bool = False
    """The publish created the table (empty) to stage into it."""


def commit_each(catalog: Any, staged: Sequence[StagedTable]) -> None:
    """Commit ``staged`` one table at a time, for catalogs without a multi-table commit. When one fails,
    the tables already committed are set back to the snapshot they had (the product ends as it was; a
    reader may have seen the newer version of those tables meanwhile), then the failure is raised."""
    done: list[StagedTable] = []
    try:
        for s in staged:
            catalog.commit_table(s.table, s.requirements, s.updates)
            done.append(s)
    except BaseException:
        for s in reversed(done):
            table = catalog.load_table(s.identifier)
            if s.previous_snapshot is not None:
                table.manage_snapshots().set_current_snapshot(s.previous_snapshot).commit()
            elif s.created:
                catalog.drop_table(s.identifier)
        raise


def commit_sql_transaction(catalog: Any, staged: Sequence[StagedTable]) -> None:
    """Commit ``staged`` to PyIceberg's SQL catalog in one database transaction: every table's new
    metadata file is written first, then all their pointers move in one transaction (each only if the
    table is still where it was staged from), or none does.

    Raises:
        CommitFailedException: a table changed since it was staged (nothing was committed).
    """
    from pyiceberg.catalog.sql import IcebergTables
    from pyiceberg.exceptions import CommitFailedException
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    moves = []
    for s in staged:
        current = catalog.load_table(s.identifier)
        new = catalog._update_and_stage_table(current, s.identifier, s.requirements, s.updates)  # checks requirements
        catalog._write_metadata(metadata=new.metadata, io=new.io, metadata_path=new.metadata_location)
        moves.append((s.identifier, current.metadata_location, new.metadata_location))
    with Session(catalog.engine) as session, session.begin():
        for ident, old, new_location in moves:
            namespace, name = ident.rsplit(".", 1)
            result = session.execute(
                update(IcebergTables)
                .where(IcebergTables.catalog_name == catalog.name, IcebergTables.table_namespace == namespace,
                       IcebergTables.table_name == name, IcebergTables.metadata_location == old)
                .values(metadata_location=new_location, previous_metadata_location=old))
            if result.rowcount < 1:  # type: ignore[attr-defined]  # raising here rolls back every pointer moved
                raise CommitFailedException(f"{ident} was changed by another process while this run published")


def commit_rest_transaction(catalog: Any, staged: Sequence[StagedTable]) -> bool:
    """Commit ``staged`` through the Iceberg REST catalog's multi-table commit
    (``POST /v1/{prefix}/transactions/commit``): the catalog applies all of the changes or none.

    Returns:
        False when the catalog has no such endpoint (nothing was committed; commit another way).

    Raises:
        CommitFailedException: a table changed since it was staged (HTTP 409; nothing was committed).
    """
    import json

    from pyiceberg.exceptions import CommitFailedException, ForbiddenError, UnauthorizedError
    from pyiceberg.table import CommitTableRequest, TableIdentifier

    changes = []
    for s in staged:
        namespace, name = s.identifier.rsplit(".", 1)
        request = CommitTableRequest(identifier=TableIdentifier(namespace=namespace.split("."), name=name),
                                     requirements=s.requirements, updates=s.updates)
        changes.append(json.loads(request.model_dump_json()))
    url = catalog.url("transactions/commit", prefixed=True)
    response = catalog._session.post(url, data=json.dumps({"table-changes": changes}).encode())
    if response.status_code in {404, 405, 406, 501}:
        return False
    if response.status_code in {200, 204}:
        return True
    detail = response.text[:300]
    if response.status_code == 401:
        raise UnauthorizedError(detail)
    if response.status_code == 403:
        raise ForbiddenError(detail)
    if response.status_code == 409:
        raise CommitFailedException(detail)
    from floe.errors import ServiceUnavailableError

    # 5xx: the catalog may or may not have applied it; the caller checks the snapshots it finds
    raise ServiceUnavailableError(f"catalog {catalog.properties.get('uri')}: the multi-table commit answered "
                                  f"HTTP {response.status_code}: {detail}",
                                  hint="check the catalog's log, then run the product again")
