"""A third-party plugin package works like a builtin (issue 16 acceptance).

tests/fixtures/plugins/floe-example is a package of its own (pyproject.toml, entry points), installed by
floe's dev extra. Its ``example-sql`` catalog (Iceberg SQL catalog on a database whose URL is a secret
reference) and ``example-jsonl`` alert channel are configured in a manifest exactly like builtins, with
nothing under src/floe naming them: the manifest compiles, the schema lists their configs, a failing
embedded run alerts through the channel, and the fixed rerun publishes the marts into that catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.dbt_faults import broken_model

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.plugins.schema import json_schema

pytestmark = pytest.mark.integration
URL_ENV = "FLOE_EXAMPLE_CATALOG_URL"


@pytest.mark.requirement("FLOE-PLUGINS")
def test_example_package_catalog_and_alert_channel_serve_an_embedded_run(
        demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyiceberg.catalog import load_catalog

    db = tmp_path / "catalog-db" / "iceberg.sqlite"
    db.parent.mkdir()
    monkeypatch.setenv(URL_ENV, f"sqlite:///{db}")
    alerts = tmp_path / "alerts" / "floe.jsonl"
    manifest = demo_copy / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["plugins"]["catalog"] = {"type": "example-sql", "uri": f"env:{URL_ENV}"}
    doc["plugins"]["alert_channels"] = [{"type": "example-jsonl", "path": str(alerts)}]
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    product = demo_copy / "customer-360"

    slots = json_schema("manifest")["$defs"]["PluginsConfig"]["properties"]
    catalogs = {c["properties"]["type"]["const"]: c for c in slots["catalog"]["oneOf"]}
    channels = {c["properties"]["type"]["const"]: c for c in slots["alert_channels"]["items"]["oneOf"]}
    assert catalogs["example-sql"]["required"] == ["type", "uri"]
    assert channels["example-jsonl"]["required"] == ["type", "path"]

    with broken_model(product, "models/intermediate/int_customer_orders.sql"), \
            pytest.raises(RuntimeFailure) as failed:
        run_product(product, manifest_path=manifest)
    lines = alerts.read_text().splitlines()
    assert len(lines) == 1, lines
    event = json.loads(lines[0])
    assert event["product"] == "customer-360" and event["severity"] == "error"
    assert event["details"]["run_id"] == failed.value.run_id
    assert "customer_360.int_customer_orders" in {f["node"] for f in event["details"]["failed"]}

    result = run_product(product, manifest_path=manifest)
    assert result.success and result.marts, result.message
    assert len(alerts.read_text().splitlines()) == 1  # a run that succeeds alerts nobody
    artifacts = json.loads(result.artifacts_path.read_text())  # type: ignore[union-attr]
    assert artifacts["plugins"]["catalog"] == {"type": "example-sql", "version": "0.1.0",
                                               "config": {"uri": f"env:{URL_ENV}", "echo": False}}
    assert str(db) not in result.artifacts_path.read_text()  # type: ignore[union-attr]  # the reference only
    catalog = load_catalog("floe-customer_360", type="sql", uri=f"sqlite:///{db}")  # floe names it per product
    for mart, rows in result.marts.items():
        table = catalog.load_table(mart)  # "<namespace>.<table>"
        assert len(table.scan().to_arrow()) == rows
    assert not (demo_copy / ".floe" / "warehouse" / "catalog.db").exists()  # not the builtin catalog's file
