"""`floe platform deploy --target kubernetes`: values from the manifest, rendered and validated."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
from tests.conftest import DEMO, PRODUCTS

from floe.errors import FloeError
from floe.k8s.deploy import deploy, values_from_manifest
from floe.plugins.registry import load_manifest


def test_values_carry_products_and_warehouse() -> None:
    manifest = load_manifest(DEMO / "manifest.yaml")
    values = values_from_manifest(manifest, PRODUCTS)
    assert values["products"] == [{"name": p} for p in PRODUCTS]
    assert values["polaris"]["catalog"]["name"] == "floe-e2e"
    assert "dagster" not in values  # the chart's own maxConcurrentRuns unless the manifest sets one


def test_manifest_max_concurrent_runs_reaches_the_chart() -> None:
    manifest = load_manifest(DEMO / "manifest.yaml")
    orchestrator = manifest.plugins.orchestrator.model_copy(update={"max_concurrent_runs": 3})
    plugins = manifest.plugins.model_copy(update={"orchestrator": orchestrator})
    manifest = manifest.model_copy(update={"plugins": plugins})
    assert values_from_manifest(manifest, PRODUCTS)["dagster"] == {"maxConcurrentRuns": 3}


def test_dry_run_renders_valid_objects_with_a_code_location_per_product(tmp_path: Path) -> None:
    manifest = load_manifest(DEMO / "manifest.yaml")
    result = deploy(DEMO / "manifest.yaml", manifest, PRODUCTS, release="floe-platform", namespace="floe",
                    values_files=[Path("charts/floe-platform/values-test.yaml")], dry_run=True,
                    output=tmp_path)
    assert result.commands == [] and result.written is not None and result.written.exists()
    for obj in result.objects:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    workspace = next(o for o in result.objects if o["kind"] == "ConfigMap"
                     and o["metadata"]["labels"].get("app.kubernetes.io/component") == "workspace")
    text = str(workspace["data"])
    for product in PRODUCTS:
        assert product in text


def test_apply_without_helm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    manifest = load_manifest(DEMO / "manifest.yaml")
    with pytest.raises(FloeError, match="helm CLI is not installed"):
        deploy(DEMO / "manifest.yaml", manifest, PRODUCTS, release="r", namespace="n", values_files=[],
               dry_run=False, output=None)
