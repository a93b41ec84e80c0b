"""A run that ends before it has published (fails, is interrupted or is killed) leaves nothing the next
run builds on.

dbt builds in the engine's local DuckDB file, which is only a working copy of the published tables: a
failed run's incremental models hold rows no published table holds, and its publish may have written
data and metadata files no snapshot refers to. Every run marks the file as its own when it starts
(``<database>.run``: the run's id and start time) and marks it published once it has published. A run that
finds another run's mark knows that run never published, and first

- puts the product's local tables back to their published snapshots (a table the catalog does not hold
  is dropped), so incremental models start from what consumers see, and
- deletes the files that run wrote into the product's tables without committing them (files newer than
  its start that no snapshot or metadata file of the table refers to).

Runs of a product never overlap (the embedded run lock; one run per product in the platform's queue),
so what the unpublished run wrote is the only thing in that window.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from floe.runtime.context import RunContext

_MARGIN_MS = 5_000
"""Snapshots this much older than a run's start are still searched for its files (clock steps)."""


def _mark(ctx: RunContext) -> Path:
    return ctx.duckdb_path.with_suffix(".run")


def begin_run(ctx: RunContext, run_id: str, log: Any = None) -> None:
    """At the start of each of a run's steps: recover from an earlier run that did not publish, then
    mark the local database as this run's (a later step of the same run finds its own mark)."""
    mark = _mark(ctx)
    previous = _read(mark)
    if previous.get("run") == run_id:
        return
    if previous and not previous.get("published"):
        recover(ctx, previous, log)
    _write(mark, {"run": run_id, "started": time.time()})


def end_run(ctx: RunContext) -> None:
    """After the run published: its local tables are the published ones."""
    mark = _mark(ctx)
    _write(mark, {**_read(mark), "published": True})


def published(ctx: RunContext, run_id: str) -> bool:
    """Whether run ``run_id`` was the last to start on the local database, and published."""
    mark = _read(_mark(ctx))
    return mark.get("run") == run_id and bool(mark.get("published"))


def _write(mark: Path, data: dict[str, Any]) -> None:
    mark.parent.mkdir(parents=True, exist_ok=True)
    tmp = mark.with_name(f".{mark.name}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(mark)  # a kill leaves the old mark or the new one, never half of one


def _read(mark: Path) -> dict[str, Any]:
    try:
        data = json.loads(mark.read_text())
    except (OSError, ValueError):
        return {"run": "an unknown run", "started": 0.0} if mark.exists() else {}
    return data if isinstance(data, dict) else {}


def recover(ctx: RunContext, previous: dict[str, Any], log: Any = None) -> None:
    """Undo what ``previous`` (a run's mark) left behind: local tables back to the published ones, and
    the files it staged but never committed removed."""
    from floe.runtime.iceberg import load_catalog

    catalog = load_catalog(ctx)
    published = {i: catalog.load_table(i) for i in ctx.table_identifiers() if catalog.table_exists(i)}
    restored, dropped = _restore_local(ctx, published)
    since = float(previous.get("started") or 0.0)
    removed = remove_unpublished_files(published.values(), since) if since else 0
    _say(log, f"floe: run {previous.get('run')} ended before it published; restored {restored} local table(s) to "
              f"their published snapshots, dropped {dropped} it alone had built, removed {removed} file(s) it had "
              "staged in the catalog")


def _restore_local(ctx: RunContext, published: dict[str, Any]) -> tuple[int, int]:
    import duckdb

    if not ctx.duckdb_path.exists():
        return 0, 0
    db = ctx.duckdb_path.stem
    ours = set(ctx.table_identifiers())
    restored = dropped = 0
    con = duckdb.connect(str(ctx.duckdb_path))
    try:
        rows = con.execute("select table_schema, table_name from information_schema.tables "
                           "where table_catalog = ? and table_type = 'BASE TABLE'", [db]).fetchall()
        for schema, name in rows:
            ident = f"{schema}.{name}"
            if ident not in ours:
                continue  # not the product's (dbt's own relations): dbt manages them
            table = published.get(ident)
            snapshot = table.current_snapshot() if table is not None else None
            if table is None or snapshot is None:
                con.execute(f'drop table "{db}"."{schema}"."{name}"')
                dropped += 1
                continue
            con.register("floe_published", table.scan(snapshot_id=snapshot.snapshot_id).to_arrow())
            con.execute(f'create or replace table "{db}"."{schema}"."{name}" as select * from floe_published')  # noqa: S608
            con.unregister("floe_published")
            restored += 1
    finally:
        con.close()
    return restored, dropped


def remove_unpublished_files(tables: Iterable[Any], since: float) -> int:
    """Delete the files under each table's location written at or after ``since`` (a Unix time) that
    neither its metadata log nor any snapshot since then refers to; how many went."""
    from pyarrow.fs import FileSelector, FileType
    from pyiceberg.io.pyarrow import PyArrowFileIO

    removed = 0
    since_ms = since * 1000
    for table in tables:
        table = table.refresh()  # what the catalog holds now: a commit that did land is kept
        if not isinstance(table.io, PyArrowFileIO):
            continue
        scheme, netloc, root = PyArrowFileIO.parse_location(table.location())
        fs = table.io.fs_by_scheme(scheme, netloc)
        candidates = [f.path for f in fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True))
                      if f.type == FileType.File and f.mtime is not None and f.mtime.timestamp() * 1000 >= since_ms]
        if not candidates:
            continue
        referenced = {PyArrowFileIO.parse_location(p)[2] for p in _referenced(table, since_ms - _MARGIN_MS)}
        for path in candidates:
            if path not in referenced:
                fs.delete_file(path)
                removed += 1
    return removed


def _referenced(table: Any, since_ms: float) -> set[str]:
    """Every file the table's metadata refers to that may have been written since ``since_ms``."""
    meta = table.metadata
    files = {table.metadata_location, *(m.metadata_file for m in meta.metadata_log)}
    for snapshot in meta.snapshots:
        if snapshot.timestamp_ms < since_ms:
            continue  # older than the files in question: it cannot refer to them
        files.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            files.add(manifest.manifest_path)
            files.update(e.data_file.file_path for e in manifest.fetch_manifest_entry(table.io, discard_deleted=False))
    return files


def _say(log: Any, line: str) -> None:
    if log is not None:
        log.warning(line)
