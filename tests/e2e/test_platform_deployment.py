"""The deployed local platform: every service answers its own protocol on the port the manifest gives
it, the Dagster daemons heartbeat, and operators can read each service's status and logs (15-FR-003)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import floe, graphql, platform_status

pytestmark = pytest.mark.e2e


def _postgres(secrets: dict[str, str]) -> None:
    import psycopg

    from floe.platform.services import PG_DATABASES, pg_dsn

    with psycopg.connect(pg_dsn(secrets, "postgres"), connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert set(PG_DATABASES) <= names, names


def _seaweedfs(secrets: dict[str, str]) -> None:
    assert httpx.get("http://127.0.0.1:8333/healthz", timeout=5).status_code == 200


def _jaeger(secrets: dict[str, str]) -> None:
    assert httpx.get("http://127.0.0.1:13134/status", timeout=5).status_code == 200
    assert isinstance(httpx.get("http://127.0.0.1:16686/api/services", timeout=5).json()["data"], list)


def _otel_collector(secrets: dict[str, str]) -> None:
    r = httpx.post("http://127.0.0.1:4318/v1/traces", json={"resourceSpans": []}, timeout=5)
    assert r.status_code == 200, r.text


def _dagster_webserver(secrets: dict[str, str]) -> None:
    assert httpx.get("http://127.0.0.1:3000/server_info", timeout=5).json()["dagster_version"]
    assert graphql("{ version }")["version"]


def _dagster_daemon(secrets: dict[str, str]) -> None:
    data = graphql("{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }")
    statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    unhealthy = [s["daemonType"] for s in statuses if s["required"] and not s["healthy"]]
    assert statuses and unhealthy == []
    assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"} <= {s["daemonType"] for s in statuses}


def _oci_registry(secrets: dict[str, str]) -> None:
    r = httpx.get("http://127.0.0.1:5050/v2/_catalog",
                  auth=(secrets["FLOE_REGISTRY_USER"], secrets["FLOE_REGISTRY_PASSWORD"]), timeout=5)
    assert r.status_code == 200 and "repositories" in r.json()


CHECKS: dict[str, Callable[[dict[str, str]], None]] = {
    "postgres": _postgres, "seaweedfs": _seaweedfs, "jaeger": _jaeger, "otel-collector": _otel_collector,
    "dagster-webserver": _dagster_webserver, "dagster-daemon": _dagster_daemon, "oci-registry": _oci_registry,
}


@pytest.mark.requirement("15-FR-003")
@pytest.mark.parametrize("service", list(CHECKS))
def test_service_answers_its_own_protocol(platform: dict[str, Any], secrets: dict[str, str], service: str) -> None:
    assert service in {s["service"] for s in platform_status()["services"]}
    CHECKS[service](secrets)


@pytest.mark.requirement("15-FR-003")
def test_services_run_on_the_ports_the_manifest_declares(platform: dict[str, Any], manifest_path: Path) -> None:
    from urllib.parse import urlparse

    from floe.platform.controller import load_manifest

    p = load_manifest(manifest_path).plugins
    expected = {
        "seaweedfs": urlparse(p.storage.endpoint).port,
        "otel-collector": urlparse(p.telemetry_backend.endpoint).port,
        "jaeger": urlparse(p.telemetry_backend.query_url).port,
        "dagster-webserver": urlparse(p.orchestrator.url).port,
        "oci-registry": load_manifest(manifest_path).platform.registry_port,
    }
    ports = {s["service"]: s["port"] for s in platform_status()["services"]}
    assert {k: ports[k] for k in expected} == expected


@pytest.mark.requirement("15-FR-003")
def test_status_and_logs_serve_every_service(platform: dict[str, Any]) -> None:
    human = floe("platform", "status").stdout
    services = [s["service"] for s in platform_status()["services"]]
    for name in services:
        assert name in human
        assert floe("platform", "logs", name, "-n", "5").stdout.strip(), f"empty log for {name}"
    r = floe("platform", "logs", "no-such-service", check=False)
    assert r.returncode != 0 and "known:" in r.stderr and "postgres" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.requirement("15-FR-003")
def test_platform_refuses_a_second_install(platform: dict[str, Any], manifest_path: Path) -> None:
    before = platform_status()
    r = floe("platform", "up", "-m", str(manifest_path), check=False)
    assert r.returncode != 0
    assert "already running" in r.stderr and "floe platform upgrade" in r.stderr
    after = platform_status()
    assert after["supervisor_pid"] == before["supervisor_pid"]
    assert after["release"]["revision"] == before["release"]["revision"], "a refused install must not add a revision"
