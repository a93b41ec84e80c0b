"""Service outages on the running platform, made with `floe platform stop` and undone with `floe platform
start`: telemetry going away never breaks a compile or a platform run (it is said once), a catalog outage
is reported loudly by name, and everything comes back healthy with its data (issue 5, 15-FR-005)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO, ROOT
from tests.e2e.conftest import floe, platform_status, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.restarts_platform]
TELEMETRY = ["jaeger", "otel-collector"]
UNAVAILABLE = "telemetry unavailable"


def _start(names: list[str]) -> None:
    floe("platform", "start", *names)
    wait_for(lambda: platform_status()["healthy"], timeout=120, what=f"the platform healthy again after {names}")


@pytest.fixture(scope="module")
def telemetry_down(platform: dict[str, Any]) -> Iterator[None]:
    out = floe("platform", "stop", *TELEMETRY).stdout
    assert "stopped: jaeger, otel-collector" in out
    try:
        yield
    finally:
        if not platform_status()["healthy"]:
            _start(TELEMETRY)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    return subprocess.run([sys.executable, "-m", "floe.cli.main", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=900, check=False)


@pytest.mark.requirement("FLOE-PLAT-STOP")
def test_stopped_services_stay_stopped_and_status_says_so(telemetry_down: None) -> None:
    st = platform_status()
    services = {s["service"]: s for s in st["services"]}
    assert not st["healthy"]
    assert all(services[n]["state"] == "stopped" and services[n]["pid"] is None for n in TELEMETRY)
    assert {s["state"] for name, s in services.items() if name not in TELEMETRY} == {"healthy"}
    assert "floe platform start" in services["jaeger"]["message"]


@pytest.mark.requirement("15-FR-005")
def test_compile_succeeds_and_says_once_that_telemetry_is_unavailable(telemetry_down: None, tmp_path: Path) -> None:
    r = _cli("compile", str(DEMO / "customer-360"), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "compiled_artifacts.json").exists()
    assert (r.stdout + r.stderr).count(UNAVAILABLE) == 1, r.stderr


@pytest.mark.requirement("15-FR-005")
def test_platform_run_succeeds_and_says_once_that_telemetry_is_unavailable(telemetry_down: None) -> None:
    r = _cli("run", str(DEMO / "iot-telemetry"), "--platform")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "succeeded" in r.stdout
    assert (r.stdout + r.stderr).count(UNAVAILABLE) == 1, r.stdout + r.stderr


@pytest.mark.requirement("FLOE-PLAT-STOP")
def test_start_brings_telemetry_back_and_traces_flow_again(telemetry_down: None, tmp_path: Path) -> None:
    _start(TELEMETRY)
    assert not any(s["state"] == "stopped" for s in platform_status()["services"])
    r = _cli("compile", str(DEMO / "customer-360"), "-o", str(tmp_path / "out"))
    assert r.returncode == 0 and UNAVAILABLE not in r.stderr


@pytest.fixture(scope="module")
def catalog_down(platform: dict[str, Any], manifest_path: Path, secrets: dict[str, str]) -> Iterator[set[str]]:
    """SeaweedFS (S3 and the Iceberg REST catalog) stopped; started again afterwards. Yields the bucket
    names before the outage."""
    from floe.platform.controller import load_manifest
    from floe.plugins.storage.seaweedfs import s3_client

    s3 = s3_client(load_manifest(manifest_path).plugins.storage, secrets)
    before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    floe("platform", "stop", "seaweedfs")
    try:
        yield before
    finally:
        _start(["seaweedfs"])
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == before


@pytest.mark.requirement("15-FR-015")
def test_catalog_outage_is_named_while_compile_still_works(catalog_down: set[str], manifest_path: Path,
                                                           secrets: dict[str, str], tmp_path: Path) -> None:
    assert floe("compile", str(DEMO / "financial-risk"), "-o", str(tmp_path / "out"), check=False).returncode == 0
    r = subprocess.run([sys.executable, "-m", "floe.cli.main", "plugins", "check", "-m", str(manifest_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                       env={**os.environ, **secrets, "COLUMNS": "200"})
    assert r.returncode == 1, r.stdout
    unhealthy = [line for line in r.stdout.splitlines() if "unhealthy" in line]
    assert any("iceberg-rest" in line for line in unhealthy), r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.requirement("15-FR-008")
def test_platform_run_during_a_catalog_outage_fails_loudly(catalog_down: set[str]) -> None:
    """No silent success without Iceberg data: the run fails, and the error names what was unreachable."""
    r = _cli("run", str(DEMO / "iot-telemetry"), "--platform")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "ended FAILURE" in out and "succeeded" not in out, out
    assert "127.0.0.1:8181" in out or "8181" in out, out  # the catalog endpoint, by address
    assert "Traceback" not in out
