"""Which local services `floe platform up` runs comes from the manifest's plugins, not from the platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import ROOT

from floe.home import Home
from floe.platform.services import build_services
from floe.plugins.registry import load_manifest

SECRETS = {name: f"{name.lower()}-value" for name in (
    "FLOE_PG_PASSWORD", "FLOE_REGISTRY_PASSWORD", "FLOE_REGISTRY_USER", "FLOE_S3_ACCESS_KEY_ID",
    "FLOE_S3_SECRET_ACCESS_KEY", "FLOE_SEMANTIC_TOKEN")}


def _names(manifest_path: Path, tmp_path: Path, **plugins: object) -> list[str]:
    manifest = load_manifest(manifest_path)
    if plugins:
        manifest = manifest.model_copy(update={"plugins": manifest.plugins.model_copy(update=plugins)})
    return [s.name for s in build_services(manifest, Home(tmp_path / "home"), SECRETS, [])]


@pytest.mark.requirement("FLOE-PLUGINS")
def test_the_demo_platform_runs_what_its_plugins_ask_for(tmp_path: Path) -> None:
    names = _names(ROOT / "demo" / "manifest.yaml", tmp_path)
    assert sorted(names) == sorted(["postgres", "dagster-webserver", "dagster-daemon", "seaweedfs", "jaeger",
                                    "otel-collector", "semantic", "oci-registry"])
    # dependencies start first: the collector after Jaeger, the semantic service after the store
    assert names.index("jaeger") < names.index("otel-collector")
    assert names.index("seaweedfs") < names.index("semantic")
    assert names.index("postgres") < names.index("dagster-daemon")


@pytest.mark.requirement("FLOE-PLUGINS")
def test_a_plugin_left_out_takes_its_services_with_it(tmp_path: Path) -> None:
    names = _names(ROOT / "demo" / "manifest.yaml", tmp_path, telemetry_backend=None, semantic_layer=None)
    assert "jaeger" not in names and "otel-collector" not in names and "semantic" not in names
    assert {"postgres", "seaweedfs", "dagster-webserver", "oci-registry"} <= set(names)


@pytest.mark.requirement("FLOE-PLUGINS")
def test_seaweedfs_serves_the_iceberg_catalog_only_when_the_catalog_asks(tmp_path: Path) -> None:
    manifest = load_manifest(ROOT / "demo" / "manifest.yaml")
    home = Home(tmp_path / "home")
    served = next(s for s in build_services(manifest, home, SECRETS, []) if s.name == "seaweedfs")
    assert "-s3.port.iceberg=8181" in served.command and served.probe.url.endswith(":8181/v1/config")
    remote = manifest.plugins.catalog.model_copy(update={"uri": "https://catalog.example.com"})
    alone = manifest.model_copy(update={"plugins": manifest.plugins.model_copy(update={"catalog": remote})})
    own = next(s for s in build_services(alone, home, SECRETS, []) if s.name == "seaweedfs")
    assert "-s3.port.iceberg=0" in own.command and own.probe.kind == "tcp"


@pytest.mark.requirement("FLOE-PLUGINS")
def test_an_otlp_backend_elsewhere_runs_nothing_here(tmp_path: Path) -> None:
    from floe.plugins import get_registry

    model = get_registry().config_model("telemetry_backend", "otlp")
    assert model is not None
    otlp = model.model_validate({"type": "otlp", "endpoint": "http://collector.example.com:4317"})
    names = _names(ROOT / "demo" / "manifest.yaml", tmp_path, telemetry_backend=otlp)
    assert "jaeger" not in names and "otel-collector" not in names


@pytest.mark.requirement("FLOE-RUN-LOCK")
def test_dagsters_queue_runs_one_run_per_product_at_a_time(tmp_path: Path) -> None:
    """The local Dagster's run coordinator config is one Dagster accepts, and limits each product tag to one run."""
    import yaml
    from dagster._config import process_config
    from dagster._config.field import resolve_to_config_type
    from dagster._core.run_coordinator import QueuedRunCoordinator

    home = Home(tmp_path / "home")
    services = build_services(load_manifest(ROOT / "demo" / "manifest.yaml"), home, SECRETS, [])
    (tmp_path / "home" / "config").mkdir(parents=True, exist_ok=True)
    daemon = next(s for s in services if s.name == "dagster-daemon")
    assert daemon.prepare is not None
    daemon.prepare()
    config = yaml.safe_load(next((tmp_path / "home").rglob("dagster.yaml")).read_text())["run_coordinator"]["config"]
    checked = process_config(resolve_to_config_type(QueuedRunCoordinator.config_type()), config)
    assert checked.success, checked.errors
    assert {"key": "floe/product", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in \
        config["tag_concurrency_limits"]
