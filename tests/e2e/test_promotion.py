"""Promotion against the platform's OCI registry, beyond the round trips in test_artifacts.py: release
tags never move while convenience tags do, a dry run changes nothing, a wrong `--from` is refused, and a
promotion's audit trace id is a real trace in Jaeger (FLOE-OCI-PROMOTION)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import wait_for
from tests.e2e.test_artifacts import cli, manifest_with_audit, product_file, push, raw

pytestmark = pytest.mark.e2e


def _manifest(tmp_path: Path, manifest_path: Path) -> Path:
    return manifest_with_audit(tmp_path, manifest_path, [sys.executable, "-c", "pass"])


@pytest.mark.requirement("FLOE-OCI-TAGS")
def test_convenience_tags_move_while_release_tags_stay(registry: str, creds: tuple[str, str],
                                                       artifact_json: bytes, keys: tuple[Path, Path],
                                                       repo: str, tmp_path: Path) -> None:
    key, _ = keys
    first = push(product_file(tmp_path, artifact_json, "one"), f"{repo}:staging-latest", key)["digest"]
    second = push(product_file(tmp_path, artifact_json, "two"), f"{repo}:staging-latest", key)["digest"]
    assert first != second
    push(product_file(tmp_path, artifact_json, "rc"), f"{repo}:v1.0.0-rc.1", key)
    r = cli("push", str(product_file(tmp_path, artifact_json, "rc2")), f"{repo}:v1.0.0-rc.1", "--key", str(key),
            check=False)
    assert r.returncode != 0 and "immutable" in r.stderr.lower()
    with raw(registry, creds) as client:
        got = client.head(f"/v2/{repo}/manifests/staging-latest",
                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        assert got.headers["Docker-Content-Digest"] == second


@pytest.mark.requirement("FLOE-OCI-PROMOTION")
def test_dry_run_runs_the_gates_and_changes_nothing(registry: str, artifact_json: bytes,
                                                    keys: tuple[Path, Path], repo: str,
                                                    tmp_path: Path, manifest_path: Path) -> None:
    key, pub = keys
    push(product_file(tmp_path, artifact_json, "dry"), f"{repo}:v1.0.0", key)
    out = cli("promote", f"{repo}:v1.0.0", "--to", "staging", "--dry-run", "--manifest",
              str(_manifest(tmp_path, manifest_path)), "--public-key", str(pub), "--json")
    record = json.loads(out.stdout)
    assert record["outcome"] == "dry_run" and record["gate_results"]
    assert all(g["status"] == "passed" for g in record["gate_results"])
    info = json.loads(cli("inspect", f"{repo}:v1.0.0", "--json", "--public-key", str(pub)).stdout)
    assert info["environments"] == []


@pytest.mark.requirement("FLOE-OCI-PROMOTION")
def test_wrong_source_environment_is_refused(registry: str, artifact_json: bytes, keys: tuple[Path, Path],
                                             repo: str, tmp_path: Path, manifest_path: Path) -> None:
    key, pub = keys
    push(product_file(tmp_path, artifact_json, "src"), f"{repo}:v1.0.0", key)
    r = cli("promote", f"{repo}:v1.0.0", "--to", "staging", "--from", "staging", "--manifest",
            str(_manifest(tmp_path, manifest_path)), "--public-key", str(pub), check=False)
    assert r.returncode == 12
    assert "is in dev, not staging" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.requirement("15-FR-005")
def test_promotion_audit_trace_is_in_jaeger(registry: str, artifact_json: bytes, keys: tuple[Path, Path],
                                           repo: str, tmp_path: Path, manifest_path: Path) -> None:
    key, pub = keys
    push(product_file(tmp_path, artifact_json, "traced"), f"{repo}:v1.0.0", key)
    out = cli("promote", f"{repo}:v1.0.0", "--to", "staging", "--manifest", str(_manifest(tmp_path, manifest_path)),
              "--public-key", str(pub), "--json", env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
                                       "OTEL_SERVICE_NAME": "floe-e2e-promotion"})
    trace_id = json.loads(out.stdout)["trace_id"]

    def spans() -> list[dict[str, Any]] | None:
        r = httpx.get(f"http://127.0.0.1:16686/api/traces/{trace_id}", timeout=10)
        return r.json()["data"][0]["spans"] if r.status_code == 200 and r.json()["data"] else None

    found = wait_for(spans, timeout=30, what=f"promotion trace {trace_id} in Jaeger")
    root = next(s for s in found if s["operationName"] == "floe.artifacts.promote")
    tags = {t["key"]: t["value"] for t in root["tags"]}
    assert tags["floe.promotion.source"] == "dev" and tags["floe.promotion.target"] == "staging"
    assert tags["floe.artifact.repository"] == repo
