"""Platform bring-up and bootstrap: every service healthy, bootstrap idempotent and verified."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import floe, platform_status

pytestmark = pytest.mark.e2e

EXPECTED = {"postgres", "seaweedfs", "dagster-webserver", "dagster-daemon", "oci-registry"}


@pytest.mark.requirement("15-FR-003")
def test_status_json_reports_every_service_healthy(platform: dict[str, Any]) -> None:
    st = platform_status()
    names = {s["service"] for s in st["services"]}
    assert names >= EXPECTED
    for s in st["services"]:
        assert s["state"] == "healthy", s
        assert s["pid"], s
    assert st["release"]["status"] == "deployed"
    assert st["release"]["stuck"] is None


@pytest.mark.requirement("15-FR-003")
def test_release_history_lists_revisions(platform: dict[str, Any]) -> None:
    history = platform_status()["history"]
    assert history, "no revisions recorded"
    assert history[-1]["status"] == "deployed"
    assert {h["status"] for h in history} <= {"deployed", "superseded", "failed"}


@pytest.mark.requirement("15-FR-004")
def test_bootstrap_is_idempotent(platform: dict[str, Any]) -> None:
    outputs = [floe("platform", "bootstrap").stdout for _ in range(3)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert "bucket floe-iceberg: already present" in outputs[0]


@pytest.mark.requirement("15-FR-004")
def test_bucket_exists_when_read_back(platform: dict[str, Any], secrets: dict[str, str], manifest_path: Any) -> None:
    from floe.platform.controller import load_manifest
    from floe.plugins.storage.seaweedfs import s3_client

    s3 = s3_client(load_manifest(manifest_path).plugins.storage, secrets)
    assert "floe-iceberg" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    s3.head_bucket(Bucket="floe-iceberg")


@pytest.mark.requirement("FLOE-PLAT-SECURITY")
def test_every_service_binds_localhost_only(platform: dict[str, Any]) -> None:
    import psutil

    pids = {s["pid"] for s in platform_status()["services"]}
    bad = []
    for pid in pids:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            try:
                conns = p.net_connections(kind="inet")
            except psutil.Error:
                continue
            for c in conns:
                if c.status == psutil.CONN_LISTEN and c.laddr.ip not in {"127.0.0.1", "::1"}:
                    bad.append(f"{p.name()} pid {p.pid} listens on {c.laddr.ip}:{c.laddr.port}")
    assert bad == []


@pytest.mark.requirement("FLOE-PLAT-REGISTRY")
def test_registry_requires_auth(platform: dict[str, Any], secrets: dict[str, str]) -> None:
    import httpx

    assert httpx.get("http://127.0.0.1:5050/v2/", timeout=5).status_code == 401
    auth = (secrets["FLOE_REGISTRY_USER"], secrets["FLOE_REGISTRY_PASSWORD"])
    assert httpx.get("http://127.0.0.1:5050/v2/", auth=auth, timeout=5).status_code == 200
