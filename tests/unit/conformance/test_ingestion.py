"""Ingestion: a declared file source lands as an Iceberg table of the product's raw namespace, and a
source that cannot be read commits nothing."""

from __future__ import annotations

import pytest

from floe.contract import ResolvedIngestion
from floe.errors import FloeError
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


def _land(name: str, sandbox: Sandbox, text: str) -> tuple[list, object]:
    from pyiceberg.catalog import load_catalog

    (sandbox.tmp / "events.jsonl").write_text(text)
    catalog = sandbox.create(PluginType.CATALOG, "sql")
    props = catalog.pyiceberg_properties(sandbox.resolver(), f"file://{sandbox.tmp}/warehouse")
    (sandbox.tmp / "warehouse").mkdir(exist_ok=True)
    source = ResolvedIngestion(name="events", table="p_raw.events", source="file", path="events.jsonl",
                               display_path="events.jsonl", format="jsonl", write_disposition="replace")
    plugin = sandbox.create(PluginType.INGESTION, name)
    try:
        return plugin.ingest([source], catalog_name="floe-p", catalog_properties=props, namespace="p_raw",
                             base_dir=sandbox.tmp, working_dir=sandbox.tmp / "ingest",
                             resolve=sandbox.resolver()), load_catalog("floe-p", **props)
    except FloeError:
        return [], load_catalog("floe-p", **props)


@pytest.mark.parametrize("name", params(PluginType.INGESTION))
def test_a_file_source_becomes_an_iceberg_table(name: str, sandbox: Sandbox) -> None:
    tables, catalog = _land(name, sandbox, '{"id": 1, "kind": "view"}\n{"id": 2, "kind": "click"}\n')
    assert [(t.identifier, t.rows) for t in tables] == [("p_raw.events", 2)]
    rows = catalog.load_table("p_raw.events").scan().to_arrow().sort_by("id")  # type: ignore[attr-defined]
    assert rows.column("kind").to_pylist() == ["view", "click"]
    assert tables[0].snapshot_id == catalog.load_table("p_raw.events").current_snapshot().snapshot_id  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", params(PluginType.INGESTION))
def test_an_unreadable_source_commits_nothing(name: str, sandbox: Sandbox) -> None:
    tables, catalog = _land(name, sandbox, '{"id": 1, "kind": "view"}\n{not json\n')
    assert tables == []
    assert not catalog.table_exists("p_raw.events")  # type: ignore[attr-defined]
