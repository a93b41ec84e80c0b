"""Schema and table evolution through PyIceberg against the platform's Iceberg REST catalog, beyond the
add-column/partition cases in test_catalog.py: renames and widening keep data, unsafe changes and
conflicting commits are refused, snapshots time-travel, and a product's own tables evolve in place
(FLOE-SCHEMA-EVOLUTION)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from tests.e2e.conftest import run_context

from floe.runtime.runner import RunResult

pytestmark = pytest.mark.e2e


def _table(catalog: Any, name: str, data: pa.Table) -> Any:
    table = catalog.create_table(name, schema=data.schema)
    table.append(data)
    return catalog.load_table(name)


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_rename_column_keeps_its_data(catalog: Any, namespace: str) -> None:
    table = _table(catalog, f"{namespace}.renamed", pa.table({"id": pa.array([1, 2], pa.int64()),
                                                              "mail": pa.array(["a@x", "b@x"])}))
    field_id = table.schema().find_field("mail").field_id
    with table.update_schema() as update:
        update.rename_column("mail", "email")
    reloaded = catalog.load_table(f"{namespace}.renamed")
    assert reloaded.schema().find_field("email").field_id == field_id
    assert sorted(reloaded.scan().to_arrow().column("email").to_pylist()) == ["a@x", "b@x"]


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_widen_int_to_long_keeps_values(catalog: Any, namespace: str) -> None:
    from pyiceberg.types import LongType

    table = _table(catalog, f"{namespace}.widened", pa.table({"n": pa.array([2**31 - 1], pa.int32())}))
    with table.update_schema() as update:
        update.update_column("n", field_type=LongType())
    table = catalog.load_table(f"{namespace}.widened")
    table.append(pa.table({"n": pa.array([2**40], pa.int64())}))
    assert isinstance(table.schema().find_field("n").field_type, LongType)
    assert sorted(catalog.load_table(f"{namespace}.widened").scan().to_arrow().column("n").to_pylist()) == \
        [2**31 - 1, 2**40]


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_narrowing_a_column_is_refused_and_leaves_the_schema(catalog: Any, namespace: str) -> None:
    from pyiceberg.exceptions import ValidationError
    from pyiceberg.types import IntegerType

    table = _table(catalog, f"{namespace}.narrow", pa.table({"n": pa.array([1], pa.int64())}))
    before = table.schema()
    with pytest.raises(ValidationError, match=r"long.*int"), table.update_schema() as update:
        update.update_column("n", field_type=IntegerType())
    assert catalog.load_table(f"{namespace}.narrow").schema() == before


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_conflicting_concurrent_commit_is_refused(catalog: Any, namespace: str) -> None:
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.types import StringType

    _table(catalog, f"{namespace}.contended", pa.table({"id": pa.array([1], pa.int64())}))
    a = catalog.load_table(f"{namespace}.contended")
    b = catalog.load_table(f"{namespace}.contended")
    with a.update_schema() as update:
        update.add_column("from_a", StringType())
    with pytest.raises(CommitFailedException), b.update_schema() as update:
        update.add_column("from_b", StringType())
    names = [f.name for f in catalog.load_table(f"{namespace}.contended").schema().fields]
    assert names == ["id", "from_a"]


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_snapshots_time_travel_and_schema_history_is_kept(catalog: Any, namespace: str) -> None:
    from pyiceberg.types import StringType

    table = _table(catalog, f"{namespace}.history", pa.table({"id": pa.array([1], pa.int64())}))
    first = table.current_snapshot().snapshot_id
    for column in ("a", "b", "c"):
        with table.update_schema() as update:
            update.add_column(column, StringType())
        table = catalog.load_table(f"{namespace}.history")
    table.append(pa.table({"id": pa.array([2], pa.int64()), "a": pa.array(["x"]), "b": pa.array(["y"]),
                           "c": pa.array(["z"])}))
    table = catalog.load_table(f"{namespace}.history")
    assert [s.schema_id for s in table.schemas().values()] == [0, 1, 2, 3]
    assert table.scan(snapshot_id=first).to_arrow().column("id").to_pylist() == [1]
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == [1, 2]
    assert len(table.snapshots()) == 2


@pytest.mark.requirement("FLOE-ISOLATION")
def test_dropping_a_namespace_that_still_has_tables_is_refused(catalog: Any, namespace: str) -> None:
    from pyiceberg.exceptions import NamespaceNotEmptyError

    _table(catalog, f"{namespace}.keep", pa.table({"id": pa.array([1], pa.int64())}))
    with pytest.raises(NamespaceNotEmptyError):
        catalog.drop_namespace(namespace)
    assert catalog.load_table(f"{namespace}.keep").scan().to_arrow().num_rows == 1


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_product_mart_evolves_in_place_and_keeps_retention(platform_runs: dict[str, RunResult]) -> None:
    """A column added to a product's mart by another writer (e.g. a backfill) is visible with every
    existing row intact, and the governance table properties survive the change."""
    from pyiceberg.types import StringType

    from floe.runtime.iceberg import load_catalog

    run = platform_runs["customer-360"]
    product_catalog = load_catalog(run_context(run))
    name = "customer_360.mart_customer_360"
    table = product_catalog.load_table(name)
    rows, props = table.scan().to_arrow().num_rows, dict(table.properties)
    column = "e2e_note"
    with table.update_schema() as update:
        update.add_column(column, StringType(), doc="added by the e2e suite")
    try:
        evolved = product_catalog.load_table(name)
        data = evolved.scan().to_arrow()
        assert data.num_rows == rows and set(data.column(column).to_pylist()) == {None}
        assert {k: evolved.properties[k] for k in props if k.startswith("history.")} == \
            {k: v for k, v in props.items() if k.startswith("history.")}
    finally:
        with product_catalog.load_table(name).update_schema(allow_incompatible_changes=True) as update:
            update.delete_column(column)
