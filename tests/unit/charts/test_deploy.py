"""`floe platform deploy --target kubernetes`: values from the manifest, rendered and validated."""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def compiled() -> list:
    from floe.compiler.stages import compile_pipeline

    return [compile_pipeline(DEMO / p, DEMO / "manifest.yaml") for p in PRODUCTS]


@pytest.mark.requirement("FLOE-PLUGINS")
def test_the_rbac_plugin_gives_the_chart_each_products_access(tmp_path: Path, compiled: list) -> None:
    manifest = load_manifest(DEMO / "manifest.yaml")
    result = deploy(DEMO / "manifest.yaml", manifest, PRODUCTS, release="floe-platform", namespace="floe",
                    values_files=[Path("charts/floe-platform/values-test.yaml")], dry_run=True, output=None,
                    compiled=compiled)
    rbac = [o for o in result.objects if o["kind"] in {"ServiceAccount", "Role", "RoleBinding"}
            and o["metadata"].get("labels", {}).get("floe.dev/product")]
    assert sorted({(o["kind"], o["metadata"]["labels"]["floe.dev/product"]) for o in rbac}) == sorted(
        (kind, p) for kind in ("ServiceAccount", "Role", "RoleBinding") for p in PRODUCTS)
    for obj in rbac:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    # the products' catalog roles get what their grants allow (read and write of their own namespaces)
    bootstrap = next(o for o in result.objects if o["kind"] == "ConfigMap" and "polaris-bootstrap.json" in o["data"])
    products = json.loads(bootstrap["data"]["polaris-bootstrap.json"])["polaris"]["products"]
    assert {p["name"]: p["privileges"] for p in products} == {p: ["CATALOG_MANAGE_CONTENT"] for p in PRODUCTS}


@pytest.mark.requirement("FLOE-PLUGINS")
def test_the_chart_mounts_the_cube_plugins_generated_model(compiled: list) -> None:
    from floe.plugins.semantic.cube import CubePlugin

    manifest = load_manifest(DEMO / "manifest.yaml")
    cube = CubePlugin.config_model.model_validate({"type": "cube"})  # type: ignore[union-attr]
    manifest = manifest.model_copy(update={"plugins": manifest.plugins.model_copy(update={"semantic_layer": cube})})
    result = deploy(DEMO / "manifest.yaml", manifest, PRODUCTS, release="floe-platform", namespace="floe",
                    values_files=[Path("charts/floe-platform/values-test.yaml")], dry_run=True, output=None,
                    compiled=compiled)
    models = next(o for o in result.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-models"))
    expected = {k.rsplit("/", 1)[-1]: v for a in compiled for k, v in CubePlugin(cube).generate_model(a).items()}
    assert expected and models["data"] == expected
