"""floe.yaml `ingestion:` and the dlt plugin's manifest config: what compile accepts, and what it says
when it does not (file, key, value, allowed values, next step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.compiler import compile_pipeline
from floe.errors import ConfigError

pytestmark = pytest.mark.requirement("FLOE-INGESTION")


def _product(demo_copy: Path, sources: list[dict[str, Any]], *, connections: dict[str, Any] | None = None,
             plugin: bool = True) -> Path:
    product = demo_copy / "customer-360"
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    spec["ingestion"] = sources
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    manifest = demo_copy / "manifest.embedded.yaml"
    m = yaml.safe_load(manifest.read_text())
    if plugin:
        m["plugins"]["ingestion"] = {"type": "dlt", **({"connections": connections} if connections else {})}
    else:
        m["plugins"].pop("ingestion", None)
    manifest.write_text(yaml.safe_dump(m, sort_keys=False))
    return product


def _error(product: Path, demo_copy: Path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        compile_pipeline(product, demo_copy / "manifest.embedded.yaml")
    return err.value


WEB = {"name": "raw_web_events", "source": "file", "path": "data/web_events.jsonl", "primary_key": "event_id"}


def test_demo_source_compiles_into_the_artifacts(demo_copy: Path, tmp_path: Path) -> None:
    a = compile_pipeline(demo_copy / "customer-360", demo_copy / "manifest.embedded.yaml", output_dir=tmp_path / "o")
    [src] = a.ingestion
    assert src.table == "customer_360_raw.raw_web_events" and src.format == "jsonl"
    assert src.write_disposition == "merge" and src.primary_key == ["event_id"]
    # relative to the artifacts folder, so the compiled output finds the file wherever it is written
    assert (tmp_path / "o" / str(src.path)).resolve() == (demo_copy / "customer-360" / "data" / "web_events.jsonl")
    assert src.display_path == "data/web_events.jsonl"
    stg = next(m for m in a.transforms.models if m.name == "stg_web_events")
    assert stg.sources == ["raw_web_events"] and stg.seeds == []


def test_unknown_write_disposition_lists_the_allowed(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [{**WEB, "write_disposition": "upsert"}]), demo_copy)
    assert e.file is not None and e.file.name == "floe.yaml"
    assert e.key == "ingestion[0].write_disposition" and e.value == "upsert"
    assert "replace" in str(e.allowed) and "append" in str(e.allowed) and "merge" in str(e.allowed)


def test_unknown_format_and_unknown_extension(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [{**WEB, "format": "xml"}]), demo_copy)
    assert e.key == "ingestion[0].format" and e.value == "xml" and "jsonl" in str(e.allowed)
    e = _error(_product(demo_copy, [{**WEB, "path": "data/web_events.txt"}]), demo_copy)
    assert e.key == "ingestion[0]" and "set `format` to one of jsonl, csv, parquet" in e.message


def test_merge_needs_a_primary_key(demo_copy: Path) -> None:
    source = {k: v for k, v in WEB.items() if k != "primary_key"}
    e = _error(_product(demo_copy, [{**source, "write_disposition": "merge"}]), demo_copy)
    assert e.key == "ingestion[0]" and "merge needs `primary_key`" in e.message and "replace or append" in e.message


def test_file_source_fields(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [{"name": "raw_x", "source": "file"}]), demo_copy)
    assert "source 'file' needs `path`" in e.message
    e = _error(_product(demo_copy, [{**WEB, "table": "accounts"}]), demo_copy)
    assert "source 'file' does not read table" in e.message and "remove it" in e.message


def test_missing_file_names_the_path_and_the_product_folder(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [{**WEB, "path": "data/nope.jsonl"}]), demo_copy)
    assert e.message == "ingestion file not found"
    assert e.key == "ingestion[0].path" and e.value == "data/nope.jsonl" and "customer-360/" in str(e.hint)


@pytest.mark.parametrize("path", ["../iot-telemetry/events.jsonl", "/etc/events.jsonl"])
def test_file_outside_the_product_is_refused(demo_copy: Path, path: str) -> None:
    e = _error(_product(demo_copy, [{**WEB, "path": path}]), demo_copy)
    assert e.key == "ingestion[0].path" and e.value == path
    assert "customer-360/" in str(e.hint)


def test_duplicate_and_seed_names(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [WEB, WEB]), demo_copy)
    assert "'raw_web_events' is declared twice" in e.message
    e = _error(_product(demo_copy, [{**WEB, "name": "raw_customers"}]), demo_copy)
    assert e.key == "ingestion[0].name" and e.value == "raw_customers" and "dbt seed" in e.message


def test_sources_need_an_ingestion_plugin_in_the_manifest(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [WEB], plugin=False), demo_copy)
    assert e.file is not None and e.file.name == "manifest.embedded.yaml" and e.key == "plugins.ingestion"
    assert "dlt" in str(e.allowed) and "remove `ingestion:` from floe.yaml" in str(e.hint)


def test_model_reading_an_undeclared_raw_source(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, []), demo_copy)
    assert e.file is not None and e.file.name == "floe.yaml" and e.key == "ingestion"
    assert "models/staging/stg_web_events.sql" in e.message
    assert "source('customer_360_raw', 'raw_web_events')" in e.message and e.value == "raw_web_events"
    assert "declare it under `ingestion:`" in str(e.hint)


def test_connection_sources_name_a_connection_of_the_manifest(demo_copy: Path) -> None:
    sql = {"name": "raw_accounts", "source": "sql", "connection": "crm", "table": "accounts"}
    conns = {"crm": {"kind": "sql", "url": "sqlite:////tmp/crm.db"},
             "fx": {"kind": "http", "base_url": "https://fx.example.com/api", "products": ["iot-telemetry"]}}
    a = compile_pipeline(_product(demo_copy, [WEB, sql], connections=conns), demo_copy / "manifest.embedded.yaml")
    assert a.ingestion[1].resource == "accounts" and a.ingestion[1].connection == "crm"
    assert a.plugins.ingestion is not None and a.plugins.ingestion.config["connections"]["crm"]["url"] == "sqlite:////tmp/crm.db"

    e = _error(_product(demo_copy, [WEB, {**sql, "connection": "billing"}], connections=conns), demo_copy)
    assert e.key == "ingestion[1].connection" and e.value == "billing"
    assert "the sql connections are: crm" in e.message and "plugins.ingestion.connections" in str(e.hint)
    http = {"name": "raw_rates", "source": "http", "connection": "fx", "resource": "v1/rates"}
    e = _error(_product(demo_copy, [WEB, http], connections=conns), demo_copy)
    assert "not open to product 'customer-360'" in e.message


@pytest.mark.parametrize("key", ["host", "connection_string", "password", "api_token"])
def test_infrastructure_and_secrets_stay_out_of_sources(demo_copy: Path, key: str) -> None:
    e = _error(_product(demo_copy, [{**WEB, key: "x"}]), demo_copy)
    assert e.key == f"ingestion[0].{key}"
    assert "do not belong in floe.yaml" in e.message


def test_manifest_connection_url_must_not_carry_a_password(demo_copy: Path) -> None:
    # a fake password, which compile must refuse
    conns = {"crm": {"kind": "sql", "url": "postgresql://floe:hunter2@db:5432/crm"}}  # pragma: allowlist secret
    product = _product(demo_copy, [WEB], connections=conns)
    with pytest.raises(ConfigError) as err:
        compile_pipeline(product, demo_copy / "manifest.embedded.yaml")
    assert "plugins.ingestion.connections.crm" in str(err.value.key)
    assert "password: env:" in err.value.message
    assert "hunter2" not in str(err.value)
