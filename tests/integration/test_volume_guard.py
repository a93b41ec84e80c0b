"""A header-only seed would empty the published tables downstream of it (dbt's tests pass on empty
tables): the run fails before publishing, naming each table with its published and new row counts,
and every snapshot stays as it was; listed under quality.allow_empty, the same seed runs and the table
is empty (FLOE-QUALITY). Three runs of iot-telemetry on the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import copy_demo

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog
from floe.runtime.runner import RunResult

pytestmark = [pytest.mark.integration, pytest.mark.requirement("FLOE-QUALITY")]

SEED = "iot-telemetry/seeds/raw_maintenance_log.csv"


def _run(demo: Path) -> RunResult:
    return run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")


def _state(ctx: RunContext) -> dict[str, tuple[int, int]]:
    catalog = load_catalog(ctx)
    out = {}
    for ns in ("iot_telemetry", "iot_telemetry_raw"):
        for ident in catalog.list_tables(ns):
            table = catalog.load_table(ident)
            out[".".join(ident)] = (table.current_snapshot().snapshot_id, table.scan().count())
    return out


def test_a_header_only_seed_blocks_the_run_unless_allowed(tmp_path: Path) -> None:
    demo = copy_demo(tmp_path)
    first = _run(demo)
    assert first.success and first.artifacts_path is not None
    ctx = RunContext.load(first.artifacts_path)
    before = _state(ctx)
    assert before["iot_telemetry_raw.raw_maintenance_log"][1] > 0 and before["iot_telemetry.stg_maintenance"][1] > 0

    seed = demo / SEED
    seed.write_text(seed.read_text().splitlines()[0] + "\n")  # the header, no rows
    with pytest.raises(RuntimeFailure) as err:
        _run(demo)
    message = str(err.value)
    assert "this run would empty 2 published table(s), so it publishes nothing" in message, message
    rows = before["iot_telemetry.stg_maintenance"][1]
    assert f"iot_telemetry.stg_maintenance ({rows} rows published, 0 in this run)" in message, message
    assert "iot_telemetry_raw.raw_maintenance_log" in message and "list it under quality.allow_empty" in message
    assert "fix the model" not in str(err.value.hint)
    assert _state(ctx) == before, "a blocked run must leave every published table as it was"

    spec_path = demo / "iot-telemetry" / "floe.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["quality"] = {"allow_empty": ["raw_maintenance_log", "stg_maintenance"]}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    allowed = _run(demo)
    assert allowed.success, allowed.message
    after = _state(ctx)
    assert after["iot_telemetry.stg_maintenance"][1] == 0 and after["iot_telemetry_raw.raw_maintenance_log"][1] == 0
