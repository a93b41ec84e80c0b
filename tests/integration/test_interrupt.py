"""Ctrl-C during an embedded run's dbt step is an interrupt, not a model failure: exit 130, a message
saying so, every published table as it was, and the next run starts clean (FLOE-RUN-LOCK)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import copy_demo

from floe.app import run_product
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog

pytestmark = [pytest.mark.integration, pytest.mark.requirement("FLOE-RUN-LOCK")]


def _snapshots(ctx: RunContext) -> dict[str, int]:
    catalog = load_catalog(ctx)
    return {".".join(t): catalog.load_table(t).current_snapshot().snapshot_id
            for ns in ("iot_telemetry", "iot_telemetry_raw") for t in catalog.list_tables(ns)}


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def test_sigint_during_dbt_exits_130_and_publishes_nothing(tmp_path: Path) -> None:
    demo = copy_demo(tmp_path)
    first = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert first.success and first.artifacts_path is not None
    ctx = RunContext.load(first.artifacts_path)
    before = _snapshots(ctx)
    latest = ctx.out_dir / "logs" / "run.log"
    previous = latest.resolve()

    floe = Path(sys.executable).parent / "floe"
    proc = subprocess.Popen([str(floe), "run", "iot-telemetry", "--manifest", "manifest.embedded.yaml"], cwd=demo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: latest.resolve() != previous and "Running dbt command" in latest.read_text(),
                  "the second run's dbt step started")
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted before it published" in err and "fix the model" not in err, err
    assert _snapshots(ctx) == before
    again = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert again.success  # the lock went with the interrupted process
