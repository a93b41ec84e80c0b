"""Fixtures for the artifact distribution unit tests: an in-memory registry, keys, compiled artifacts."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.oci.fake_registry import URL, FakeRegistry

from floe.oci.client import ArtifactStore, RegistryClient, RegistryCredentials


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own FLOE_HOME and no registry/key settings from the environment."""
    home = tmp_path / "floe-home"
    monkeypatch.setenv("FLOE_HOME", str(home))
    for key in ("FLOE_REGISTRY_URL", "FLOE_SIGNING_KEY", "FLOE_VERIFY_KEY", "FLOE_OPERATOR",
                "FLOE_REGISTRY_USER", "FLOE_REGISTRY_PASSWORD", "ORAS_USER", "ORAS_PASS"):
        monkeypatch.delenv(key, raising=False)
    yield home


def manifest_with(tmp_path: Path, artifacts: str) -> Path:
    """demo/manifest.embedded.yaml with this ``artifacts:`` section (YAML, unindented)."""
    base = (Path(__file__).parents[3] / "demo" / "manifest.embedded.yaml").read_text()
    path = tmp_path / "manifest.yaml"
    path.write_text(base + "\nartifacts:\n" + "".join(f"  {line}\n" for line in artifacts.splitlines()))
    return path


def _plugin(kind: str, **config: Any) -> dict[str, Any]:
    return {"type": kind, "version": "0.1.0", "config": config}


def make_artifacts(**metadata: Any) -> bytes:
    """Small but valid CompiledArtifacts bytes, built here so unit tests do not depend on demo/."""
    from floe.contract import CompiledArtifacts

    doc = {
        "version": "1.0.0",
        "metadata": {"product_name": "customer-360", "product_version": "1.0.0", "owner": "demo@floe.dev",
                     "description": "unit test product", "floe_version": "0.1.0", "manifest_name": "unit",
                     "manifest_version": "1.0.0", "source_hash": "sha256:" + "0" * 64, **metadata},
        "identity": {"product_id": "retail.customer_360", "slug": "customer_360", "domain": "retail",
                     "namespace": "customer_360", "raw_namespace": "customer_360_raw"},
        "paths": {"project_dir": "../product", "warehouse": None},
        "plugins": {"compute": _plugin("duckdb"), "orchestrator": _plugin("dagster"), "catalog": _plugin("sql"),
                    "storage": _plugin("local"), "dbt": _plugin("core"), "secrets": _plugin("env")},
        "transforms": {"default_compute": "duckdb", "seeds": ["raw_customers"], "models": [
            {"name": "stg_customers", "path": "models/stg_customers.sql", "tier": "bronze", "compute": "duckdb",
             "tags": [], "depends_on": [], "seeds": ["raw_customers"], "description": "customers",
             "test_count": 2}]},
        "dbt": {"project_name": "customer_360", "profile_name": "customer_360", "target": "floe", "profiles": {},
                "vars": {}},
        "schedule": None,
        "sensors": [],
        "governance": {"policy_enforcement_level": "warn", "minimum_test_coverage": 50, "require_descriptions": True,
                       "require_column_descriptions": False, "block_on_failure": True, "naming_pattern": None,
                       "data_retention_days": 30, "default_ttl_hours": 24, "snapshot_keep_last": 3,
                       "audit_logging": True, "secret_scanning": True},
        "enforcement_result": {"enforcement_level": "warn", "passed": True, "error_count": 0, "warning_count": 0,
                               "models_validated": 1, "policy_types_checked": ["naming"], "violations": []},
        "observability": {"service_name": "customer-360", "tracing_enabled": False, "otlp_endpoint": None,
                          "otlp_protocol": "grpc", "lineage_enabled": False, "lineage_namespace": "customer-360",
                          "lineage_transport": None},
    }
    return CompiledArtifacts.model_validate(doc).to_json().encode()


@pytest.fixture(scope="session")
def artifacts_json() -> bytes:
    return make_artifacts()


def variant(content: bytes, **changes: Any) -> bytes:
    """The same artifacts with metadata / enforcement fields changed (still valid CompiledArtifacts)."""
    doc = json.loads(content)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        doc[section][key] = value
    return (json.dumps(doc, indent=2) + "\n").encode()


@pytest.fixture
def credentials() -> RegistryCredentials:
    from pydantic import SecretStr

    return RegistryCredentials(SecretStr("floe-" + secrets.token_hex(4)), SecretStr(secrets.token_hex(16)),
                               "env:FLOE_REGISTRY_USER / env:FLOE_REGISTRY_PASSWORD")


@pytest.fixture
def fake(credentials: RegistryCredentials) -> FakeRegistry:
    return FakeRegistry(credentials.username.get_secret_value(), credentials.password.get_secret_value())


@pytest.fixture
def store(fake: FakeRegistry, credentials: RegistryCredentials) -> ArtifactStore:
    return ArtifactStore(RegistryClient(URL, credentials, adapter=fake))


@pytest.fixture(scope="session")
def private_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def public_key(private_key: Any) -> Any:
    return private_key.public_key()
