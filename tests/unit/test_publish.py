"""The publish of write-audit-publish (runtime/iceberg.publish_tables): a run's tables are staged, then
committed together by the catalog plugin; a refused commit or a blocked schema change publishes nothing;
governance.schema_changes and ``floe run --full-refresh`` decide dropped columns and type changes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException

from floe._iceberg import StagedTable, commit_rest_transaction
from floe.contract import SchemaChanges
from floe.errors import FloeError, RuntimeFailure
from floe.plugins.catalog.sql import SqlCatalogConfig, SqlCatalogPlugin
from floe.plugins.interfaces import CatalogPlugin, RunOptions
from floe.runtime.iceberg import check_ownership, drop_local_tables, publish_tables
from floe.runtime.runner import check_options

pytestmark = pytest.mark.requirement("FLOE-RUN-ATOMIC")

TABLES = [("p", "stg"), ("p", "mart")]


class _Run:
    """What publish_tables reads of a RunContext: the run's DuckDB file, its catalog and plugin."""

    def __init__(self, tmp: Path, plugin: CatalogPlugin | None = None) -> None:
        self.duckdb_path = tmp / "run.duckdb"
        self.catalog_name = "floe-p"
        self.tmp = tmp
        self.plugin = plugin or SqlCatalogPlugin(SqlCatalogConfig(type="sql"))
        self.project_dir = tmp / "my-product"
        self.policy(SchemaChanges())

    def policy(self, changes: SchemaChanges, folder: str = "my-product") -> None:
        self.artifacts = SimpleNamespace(governance=SimpleNamespace(schema_changes=changes),
                                         identity=SimpleNamespace(folder=folder),
                                         metadata=SimpleNamespace(product_name="p"))

    def table_identifiers(self) -> list[str]:
        return [f"{s}.{t}" for s, t in TABLES]

    def catalog_properties(self) -> dict[str, str]:
        return {"type": "sql", "uri": f"sqlite:///{self.tmp / 'catalog.db'}", "warehouse": (self.tmp / "w").as_uri()}

    def table_properties(self) -> dict[str, str]:
        return {"floe.data-retention-days": "30", "floe.owner": self.artifacts.identity.folder}

    def catalog_plugin(self) -> CatalogPlugin:
        return self.plugin

    def catalog(self) -> SqlCatalog:
        return SqlCatalog(self.catalog_name, **self.catalog_properties())

    def build(self, n: int, amount_type: str = "double") -> None:
        """What dbt leaves in the run's DuckDB file: ``n`` rows in each table."""
        con = duckdb.connect(str(self.duckdb_path))
        con.execute("create schema if not exists p")
        for _, table in TABLES:
            con.execute(f"create or replace table p.{table} as "
                        f"select i as id, cast(i * 1.5 as {amount_type}) as amount from range({n}) t(i)")
        con.close()

    def published_then_rebuilt(self, amount_type: str = "double") -> dict[str, int | None]:
        """Publish a first version (3 rows), build a second (5 rows); the first's snapshot ids."""
        self.build(3)
        publish_tables(self, TABLES)  # type: ignore[arg-type]
        before = self.snapshots()
        self.build(5, amount_type)
        return before

    def snapshots(self) -> dict[str, int | None]:
        cat = self.catalog()
        out: dict[str, int | None] = {}
        for schema, table in TABLES:
            ident = f"{schema}.{table}"
            snap = cat.load_table(ident).current_snapshot() if cat.table_exists(ident) else None
            out[ident] = snap.snapshot_id if snap is not None else None
        return out

    def rows(self) -> dict[str, int]:
        cat = self.catalog()
        return {f"{s}.{t}": cat.load_table(f"{s}.{t}").scan().count() for s, t in TABLES}


def test_a_publish_makes_every_table_visible_in_one_catalog_commit(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.build(3)
    published = publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert [(t.identifier, t.rows) for t in published] == [("p.stg", 3), ("p.mart", 3)]
    assert run.rows() == {"p.stg": 3, "p.mart": 3}
    first = run.snapshots()
    run.build(5)
    publish_tables(run, TABLES, run_id="run-2")  # type: ignore[arg-type]
    assert run.rows() == {"p.stg": 5, "p.mart": 5}
    assert {run.catalog().load_table(f"p.{t}").current_snapshot().summary["floe.run"] for _, t in TABLES} == {"run-2"}
    second = run.snapshots()
    assert all(second[t] != first[t] for t in first)
    # one SQL transaction moved both pointers: both tables' new metadata came in the same commit
    assert run.catalog().load_table("p.mart").properties["floe.data-retention-days"] == "30"


class _Concurrent(SqlCatalogPlugin):
    """Another writer commits to p.mart after this run staged it, before this run commits."""

    def commit_tables(self, catalog: Any, staged: Any) -> None:
        catalog.load_table("p.mart").append(pa.table({"id": pa.array([99], pa.int64()), "amount": [1.0]}))
        super().commit_tables(catalog, staged)


def test_a_refused_commit_publishes_none_of_the_tables(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    before = run.published_then_rebuilt()
    run.plugin = _Concurrent(SqlCatalogConfig(type="sql"))
    with pytest.raises(RuntimeFailure) as err:
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert "published nothing" in err.value.message
    after = run.snapshots()
    assert after["p.stg"] == before["p.stg"], "stg was published although mart's commit was refused"
    assert run.rows() == {"p.stg": 3, "p.mart": 4}  # mart: the other writer's row only


def test_a_type_change_fails_before_anything_is_staged_naming_table_and_column(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    before = run.published_then_rebuilt(amount_type="varchar")
    with pytest.raises(RuntimeFailure) as err:
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    message = err.value.message
    assert "p.stg.amount: double -> string" in message and "p.mart.amount: double -> string" in message, message
    assert "publishes nothing" in message and "type_changes: block" in message
    assert "floe run my-product --full-refresh mart --full-refresh stg" in str(err.value.hint)
    assert run.snapshots() == before and run.rows() == {"p.stg": 3, "p.mart": 3}


def _amount_type(run: _Run, snapshot: int | None = None) -> str:
    table = run.catalog().load_table("p.stg")
    schema = table.schemas()[table.snapshot_by_id(snapshot).schema_id] if snapshot else table.schema()
    return str(schema.find_field("amount").field_type)


def test_a_full_refresh_publishes_the_new_type_and_keeps_the_old_in_history(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    before = run.published_then_rebuilt(amount_type="varchar")
    publish_tables(run, TABLES, full_refresh={"p.stg", "p.mart"})  # type: ignore[arg-type]
    assert _amount_type(run) == "string" and run.rows() == {"p.stg": 5, "p.mart": 5}
    assert _amount_type(run, before["p.stg"]) == "double"  # the old snapshot reads as it was written
    old = run.catalog().load_table("p.stg").scan(snapshot_id=before["p.stg"]).to_arrow()
    assert old.num_rows == 3 and str(old.schema.field("amount").type) == "double"


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def _drop_amount(run: _Run) -> None:
    con = duckdb.connect(str(run.duckdb_path))
    for _, t in TABLES:
        con.execute(f"alter table p.{t} drop column amount")
    con.close()


@pytest.mark.parametrize("verdict", ["allow", "warn", "block"])
def test_a_dropped_column_follows_the_policy(tmp_path: Path, verdict: str) -> None:
    run = _Run(tmp_path)
    run.policy(SchemaChanges(dropped_columns=verdict))  # type: ignore[arg-type]
    before = run.published_then_rebuilt()
    _drop_amount(run)
    log = _Log()
    if verdict == "block":
        with pytest.raises(RuntimeFailure) as err:
            publish_tables(run, TABLES, log=log)  # type: ignore[arg-type]
        assert "p.stg.amount: dropped (schema_changes.dropped_columns: block)" in err.value.message
        assert run.snapshots() == before
        return
    publish_tables(run, TABLES, log=log)  # type: ignore[arg-type]
    fields = [f.name for f in run.catalog().load_table("p.mart").schema().fields]
    assert fields == ["id"], "a dropped column must not stay on as all-NULL"
    assert len(log.warnings) == (2 if verdict == "warn" else 0), log.warnings
    assert all("p.stg.amount: dropped" in w or "p.mart.amount: dropped" in w for w in log.warnings)


def test_type_changes_warn_publishes_the_new_type_and_says_so(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.policy(SchemaChanges(type_changes="warn"))
    run.published_then_rebuilt(amount_type="varchar")
    log = _Log()
    publish_tables(run, TABLES, log=log)  # type: ignore[arg-type]
    assert _amount_type(run) == "string"
    assert any("p.stg.amount: double -> string" in w for w in log.warnings), log.warnings


def test_run_options_travel_as_tags_and_unknown_models_are_refused(tmp_path: Path) -> None:
    options = RunOptions(full_refresh=("stg_a", "raw_b"))
    assert RunOptions.from_tags(options.tags()) == options
    assert RunOptions.from_tags({}) == RunOptions() and RunOptions().tags() == {}
    transforms = SimpleNamespace(models=[SimpleNamespace(name="stg_a")], seeds=["raw_b"])
    ctx = SimpleNamespace(artifacts=SimpleNamespace(transforms=transforms, metadata=SimpleNamespace(product_name="p")))
    check_options(ctx, options)
    with pytest.raises(FloeError) as err:
        check_options(ctx, RunOptions(full_refresh=("stg_x",)))
    assert "stg_x" in err.value.message and "raw_b, stg_a" in str(err.value.hint)


def test_drop_local_tables_drops_tables_and_views(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.build(2)
    con = duckdb.connect(str(run.duckdb_path))
    con.execute("create view p.v as select * from p.stg")
    con.close()
    drop_local_tables(run, [("p", "stg"), ("p", "v"), ("p", "missing")])  # type: ignore[arg-type]
    con = duckdb.connect(str(run.duckdb_path), read_only=True)
    left = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    con.close()
    assert left == {"mart"}


def test_a_widened_column_is_published(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    con = duckdb.connect(str(run.duckdb_path))
    con.execute("create schema p")
    for _, t in TABLES:
        con.execute(f"create table p.{t} as "
                    "select cast(i as integer) as id, cast(1.0 as double) as amount from range(2) t(i)")
    con.close()
    publish_tables(run, TABLES)  # type: ignore[arg-type]
    run.build(4)  # id is now bigint: int -> long is a widening Iceberg allows
    publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert str(run.catalog().load_table("p.stg").schema().find_field("id").field_type) == "long"
    assert run.rows() == {"p.stg": 4, "p.mart": 4}


class _PerTable(CatalogPlugin):
    """A catalog plugin with the default commit (one table at a time); mart's commit fails."""

    name = "per-table"

    def pyiceberg_properties(self, resolve: Any, warehouse_root: str) -> dict[str, str]:
        return {}

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        return None

    def health_check(self, timeout: float = 5.0) -> Any:
        return None

    def commit_tables(self, catalog: Any, staged: Any) -> None:
        class Failing:
            def __getattr__(self, name: str) -> Any:
                return getattr(catalog, name)

            def commit_table(self, table: Any, requirements: Any, updates: Any) -> Any:
                if table.name()[-1] == "mart":
                    raise CommitFailedException("mart was changed by another process")
                return catalog.commit_table(table, requirements, updates)

        super().commit_tables(Failing(), staged)


def test_the_default_commit_sets_committed_tables_back_when_a_later_one_fails(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    before = run.published_then_rebuilt()
    run.plugin = _PerTable()
    with pytest.raises(RuntimeFailure):
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert run.snapshots() == before and run.rows() == {"p.stg": 3, "p.mart": 3}


def test_a_failed_first_publish_leaves_no_empty_tables_behind(tmp_path: Path) -> None:
    run = _Run(tmp_path, _PerTable())
    run.build(3)
    with pytest.raises(RuntimeFailure):
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert run.snapshots() == {"p.stg": None, "p.mart": None}
    assert not run.catalog().table_exists("p.stg") and not run.catalog().table_exists("p.mart")


class _Response:
    def __init__(self, status: int, text: str = "") -> None:
        self.status_code, self.text = status, text


class _RestCatalog:
    """What commit_rest_transaction uses of PyIceberg's RestCatalog: url() and its HTTP session."""

    def __init__(self, status: int, text: str = "") -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.status, self.text = status, text
        self.properties = {"uri": "http://127.0.0.1:1/catalog"}
        self._session = self

    def url(self, endpoint: str, prefixed: bool = False) -> str:
        return f"http://127.0.0.1:1/v1/wh/{endpoint}"

    def post(self, url: str, data: bytes) -> _Response:
        self.sent.append((url, data))
        return _Response(self.status, self.text)


def _staged(tmp_path: Path) -> list[StagedTable]:
    run = _Run(tmp_path)
    run.build(2)
    publish_tables(run, TABLES)  # type: ignore[arg-type]
    cat = run.catalog()
    out = []
    for s, t in TABLES:
        table = cat.load_table(f"{s}.{t}")
        tx = table.transaction()
        tx.set_properties({"k": "v"})
        out.append(StagedTable(f"{s}.{t}", table, tx._requirements, tx._updates, None))
    return out


def test_the_rest_commit_sends_every_table_in_one_transactions_request(tmp_path: Path) -> None:
    catalog = _RestCatalog(204)
    assert commit_rest_transaction(catalog, _staged(tmp_path)) is True
    [(url, body)] = catalog.sent
    assert url.endswith("/v1/wh/transactions/commit")
    assert body.count(b'"identifier"') == 2 and b'"name": "stg"' in body and b'"name": "mart"' in body


def test_the_rest_commit_refused_or_missing(tmp_path: Path) -> None:
    staged = _staged(tmp_path)
    with pytest.raises(CommitFailedException):
        commit_rest_transaction(_RestCatalog(409, "branch main has changed"), staged)
    assert commit_rest_transaction(_RestCatalog(404), staged) is False  # the caller commits another way


def test_a_second_folder_with_the_same_name_writes_nothing_until_it_takes_over(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    before = run.published_then_rebuilt()
    run.policy(SchemaChanges(), folder="my-product-copy")
    with pytest.raises(RuntimeFailure) as err:
        check_ownership(run)  # type: ignore[arg-type]
    message, hint = err.value.message, str(err.value.hint)
    assert "published by the product folder my-product, not by this one (my-product-copy)" in message, message
    assert "p.mart" in message and "p.stg" in message
    assert "floe run my-product-copy --take-over" in hint
    with pytest.raises(RuntimeFailure):  # the publish checks again
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert run.snapshots() == before
    check_ownership(run, take_over=True)  # type: ignore[arg-type]
    publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert {run.catalog().load_table(f"p.{t}").properties["floe.owner"] for _, t in TABLES} == {"my-product-copy"}
    run.policy(SchemaChanges())  # the first folder is now the other one
    with pytest.raises(RuntimeFailure):
        check_ownership(run)  # type: ignore[arg-type]


def _stray(run: _Run) -> list[str]:
    """Files in the catalog's warehouse that no table's metadata refers to."""
    known: set[str] = set()
    for schema, table in TABLES:
        if not run.catalog().table_exists(f"{schema}.{table}"):
            continue
        t = run.catalog().load_table(f"{schema}.{table}")
        known |= {t.metadata_location, *(m.metadata_file for m in t.metadata.metadata_log),
                  *(s.manifest_list for s in t.metadata.snapshots)}
        for listing, column in ((t.inspect.all_manifests(), "path"), (t.inspect.all_files(), "file_path")):
            known |= set(listing[column].to_pylist()) if listing.num_rows else set()
    return sorted(str(f) for f in (run.tmp / "w").rglob("*") if f.is_file() and f.as_uri() not in known
                  and f"file://{f}" not in known)


def test_a_refused_publish_deletes_the_files_it_staged(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.published_then_rebuilt()
    run.plugin = _Concurrent(SqlCatalogConfig(type="sql"))
    with pytest.raises(RuntimeFailure):
        publish_tables(run, TABLES)  # type: ignore[arg-type]
    assert not _stray(run)


def test_a_run_that_never_published_is_undone_by_the_next(tmp_path: Path) -> None:
    """r2 rebuilds the local tables and stages a publish, then dies (no handler runs): r3 finds r2's
    mark, puts the local tables back to the published ones and deletes what r2 staged; a later step of
    r3 finds its own mark and leaves the database alone."""
    from floe.runtime.recovery import begin_run, end_run

    run = _Run(tmp_path)
    begin_run(run, "r1")  # type: ignore[arg-type]
    run.build(3)
    publish_tables(run, TABLES)  # type: ignore[arg-type]
    end_run(run)  # type: ignore[arg-type]
    published = run.snapshots()

    begin_run(run, "r2")  # type: ignore[arg-type]
    run.build(5)
    stg = run.catalog().load_table("p.stg")
    tx = stg.transaction()
    tx.overwrite(pa.table({"id": pa.array([7], pa.int64()), "amount": [7.0]}))  # data + manifests written
    assert _stray(run)

    lines: list[str] = []
    log = SimpleNamespace(warning=lines.append)
    begin_run(run, "r3", log)  # type: ignore[arg-type]
    assert _local_rows(run) == {"stg": 3, "mart": 3}
    assert not _stray(run) and run.snapshots() == published and run.rows() == {"p.stg": 3, "p.mart": 3}
    assert len(lines) == 1 and "run r2 ended before it published; restored 2 local table(s)" in lines[0], lines
    run.build(4)
    begin_run(run, "r3", log)  # type: ignore[arg-type]  # r3's next step
    assert len(lines) == 1 and _local_rows(run) == {"stg": 4, "mart": 4}


def _local_rows(run: _Run) -> dict[str, int]:
    con = duckdb.connect(str(run.duckdb_path), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from p.{t}").fetchone()[0] for _, t in TABLES}
    finally:
        con.close()
