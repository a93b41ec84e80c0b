"""The soda quality plugin on embedded runs: a product's check file is verified after its models and
before anything is published. A failing check blocks: the run fails naming the check, the platform's
alert channel gets it, and every published table keeps its snapshot; with block_on_failure off the
same failure is reported and the run publishes (FLOE-QUALITY). Three runs of iot-telemetry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import copy_demo

from floe.app import run_product
from floe.errors import RuntimeFailure
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog
from floe.runtime.runner import RunResult

pytestmark = [pytest.mark.integration, pytest.mark.requirement("FLOE-QUALITY")]

MART = "mart_equipment_health"
PASSING = {
    "columns": [{"name": "equipment_id", "checks": [{"missing": None}, {"duplicate": None}]},
                {"name": "health_score", "checks": [{"invalid": {"valid_min": 0, "valid_max": 100}}]}],
    "checks": [{"row_count": {"threshold": {"must_be_greater_than": 0}}}],
}
# no equipment is that healthy: every row is invalid
FAILING = {"columns": [{"name": "health_score", "checks": [{"invalid": {"valid_max": -1}}]}]}


def _contract(demo: Path, doc: dict[str, Any]) -> None:
    (demo / "iot-telemetry" / "quality" / f"{MART}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _block(demo: Path, block: bool) -> None:
    path = demo / "manifest.embedded.yaml"
    m = yaml.safe_load(path.read_text())
    m["governance"]["quality_gates"]["block_on_failure"] = block
    path.write_text(yaml.safe_dump(m, sort_keys=False))


def _run(demo: Path) -> RunResult:
    return run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = copy_demo(tmp_path_factory.mktemp("quality"))
    (demo / "iot-telemetry" / "quality").mkdir()
    _contract(demo, PASSING)
    spec_path = demo / "iot-telemetry" / "floe.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["quality"] = {"checks": [{"model": MART, "file": f"quality/{MART}.yml"}]}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return demo


@pytest.fixture(scope="module")
def first(demo: Path) -> RunResult:
    result = _run(demo)
    assert result.success, result.message
    return result


def _ctx(result: RunResult) -> RunContext:
    assert result.artifacts_path is not None
    return RunContext.load(result.artifacts_path)


def _snapshots(ctx: RunContext) -> dict[str, int]:
    catalog = load_catalog(ctx)
    return {".".join(t): catalog.load_table(t).current_snapshot().snapshot_id
            for ns in ("iot_telemetry", "iot_telemetry_raw") for t in catalog.list_tables(ns)}


def _log(ctx: RunContext) -> str:
    return (ctx.out_dir / "logs" / "run.log").read_text()


def test_a_passing_contract_is_verified_and_the_run_publishes(first: RunResult) -> None:
    ctx = _ctx(first)
    log = _log(ctx)
    for check in ("equipment_id: No missing values", "equipment_id: No duplicate values",
                  "health_score: No invalid values", "Row count meets expected threshold"):
        assert f"quality {MART}: {check}: passed" in log, check
    assert f"iot_telemetry.{MART}" in _snapshots(ctx)
    assert ctx.artifacts.quality_checks[0].spec == PASSING  # the run verified what compile stored


def test_a_failing_check_blocks_the_run_and_publishes_nothing(first: RunResult, demo: Path) -> None:
    before = _snapshots(_ctx(first))
    _contract(demo, FAILING)
    try:
        with pytest.raises(RuntimeFailure) as err:
            _run(demo)
    finally:
        _contract(demo, PASSING)
    message = str(err.value)
    assert "1 quality check(s) failed, so this run publishes nothing" in message, message
    assert f"{MART}: health_score: No invalid values" in message, message
    ctx = _ctx(first)
    assert _snapshots(ctx) == before, "a blocked run must leave every published table as it was"
    alerts = [json.loads(line[line.index('{"alert": '):]) for line in _log(ctx).splitlines()
              if '{"alert": ' in line]
    assert alerts and "quality check" in json.dumps(alerts[-1]), alerts[-1:]


def test_without_blocking_the_failure_is_reported_and_the_run_publishes(first: RunResult, demo: Path) -> None:
    before = _snapshots(_ctx(first))
    _contract(demo, FAILING)
    _block(demo, False)
    try:
        result = _run(demo)
    finally:
        _contract(demo, PASSING)
        _block(demo, True)
    assert result.success, result.message
    ctx = _ctx(result)
    assert f"quality {MART}: health_score: No invalid values: FAILED" in _log(ctx)
    after = _snapshots(ctx)
    assert after[f"iot_telemetry.{MART}"] != before[f"iot_telemetry.{MART}"]
