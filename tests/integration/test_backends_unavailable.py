"""Issue 5: with the trace collector and the lineage backend down, a run still succeeds and says so
once per process (not once per model or span), on the console rather than only in the run log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration


def _dead_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.requirement("15-FR-005")
def test_run_with_collector_and_lineage_down_succeeds_and_says_so_once(demo_copy: Path) -> None:
    collector, marquez = f"http://127.0.0.1:{_dead_port()}", f"http://127.0.0.1:{_dead_port()}"
    manifest = demo_copy / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["metadata"]["name"] = "floe-backends-down"
    doc["plugins"]["telemetry_backend"] = {"type": "otlp", "endpoint": collector, "protocol": "grpc"}
    doc["plugins"]["lineage_backend"] = {"type": "marquez", "url": marquez}
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_SERVICE_NAME": "floe-it"}

    r = subprocess.run([sys.executable, "-m", "floe.cli.main", "run", str(demo_copy / "customer-360"), "-m",
                        str(manifest)], capture_output=True, text=True, cwd=demo_copy, env=env, timeout=900,
                       check=False)

    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert "customer-360: succeeded" in r.stdout, r.stdout
    assert r.stderr.count("telemetry unavailable") == 1, r.stderr
    assert r.stderr.count(f"lineage unavailable ({marquez} unreachable)") == 1, r.stderr
    run_log = demo_copy / "customer-360" / "target" / "floe" / "floe-backends-down" / "logs" / "run.log"
    assert "unavailable" not in run_log.read_text(), "the notice was repeated inside the run"
