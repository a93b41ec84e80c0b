"""Release upgrade, history and recovery with Helm's semantics: on the local platform (`floe platform
upgrade`, a real restart of every service) and on the floe-platform chart as `floe platform deploy`
renders it for this manifest (15-FR-003)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from tests.conftest import PRODUCTS, ROOT
from tests.e2e.conftest import component, floe, platform_status, wait_for
from tests.e2e.test_dagster import _loaded_locations

pytestmark = pytest.mark.e2e


# -- the local platform: one upgrade, observed by several tests -----------------------------------------
@pytest.fixture(scope="module")
def upgraded(platform: dict[str, Any], manifest_path: Path, platform_catalog: Any) -> dict[str, Any]:
    catalog = platform_catalog
    ns = f"e2e_upgrade_{uuid.uuid4().hex[:8]}"
    catalog.create_namespace(ns)
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    catalog.create_table(f"{ns}.marker", schema=data.schema).append(data)
    before = platform_status()
    result = floe("platform", "upgrade", "-m", str(manifest_path))
    after = platform_status()
    return {"before": before, "after": after, "stdout": result.stdout, "catalog": catalog, "ns": ns, "data": data}


@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-003")
def test_upgrade_deploys_a_new_revision_and_supersedes_the_old(upgraded: dict[str, Any]) -> None:
    old, new = upgraded["before"]["release"]["revision"], upgraded["after"]["release"]["revision"]
    assert new > old and upgraded["after"]["release"]["status"] == "deployed"
    history = {h["revision"]: h for h in upgraded["after"]["history"]}
    assert history[old]["status"] == "superseded" and history[new]["operation"] == "upgrade"
    assert f"release revision {new}: deployed" in upgraded["stdout"]


@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-003")
def test_every_service_healthy_without_restart_loops_after_upgrade(upgraded: dict[str, Any]) -> None:
    wait_for(_loaded_locations, timeout=180, what="three code locations loaded after the upgrade")
    st = platform_status()
    assert st["healthy"], st["services"]
    assert {s["service"]: s["restarts"] for s in st["services"] if s["restarts"]} == {}
    old_pids = {s["service"]: s["pid"] for s in upgraded["before"]["services"]}
    assert all(s["pid"] != old_pids.get(s["service"]) for s in st["services"]), "upgrade must restart services"


@pytest.mark.restarts_platform
@pytest.mark.requirement("FLOE-PLAT-RESTART")
def test_catalog_data_survives_the_upgrade(upgraded: dict[str, Any]) -> None:
    catalog, ns = upgraded["catalog"], upgraded["ns"]
    got = wait_for(lambda: catalog.load_table(f"{ns}.marker").scan().to_arrow(), timeout=60,
                   what="the marker table readable after the upgrade")
    assert got.sort_by("id").equals(upgraded["data"])
    catalog.drop_table(f"{ns}.marker")
    catalog.drop_namespace(ns)


@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-003")
def test_history_is_contiguous_with_exactly_one_deployed_revision(upgraded: dict[str, Any]) -> None:
    history = platform_status()["history"]
    revisions = [h["revision"] for h in history]
    assert revisions == list(range(1, len(history) + 1))
    assert [h["revision"] for h in history if h["status"] == "deployed"] == [history[-1]["revision"]]
    assert {h["status"] for h in history} <= {"deployed", "superseded", "failed"}
    assert len(history) >= 2


# -- the chart, rendered for this manifest ------------------------------------------------------------------
@pytest.mark.requirement("15-FR-003")
def test_chart_workspace_has_the_same_code_locations_as_the_local_platform(rendered: list[dict[str, Any]]) -> None:
    from floe.platform.home import Home

    [workspace] = component(rendered, "workspace", "ConfigMap")
    entries = yaml.safe_load(workspace["data"]["workspace.yaml"])["load_from"]
    chart = {e["python_file"]["location_name"] for e in entries}
    local = yaml.safe_load((Home.current().root / "config" / "dagster-workspace.yaml").read_text())
    assert chart == {e["python_file"]["location_name"] for e in local["load_from"]} == set(PRODUCTS)


@pytest.mark.requirement("15-FR-001")
def test_chart_bootstrap_hook_creates_the_manifest_warehouse_on_install_and_upgrade(
        rendered: list[dict[str, Any]]) -> None:
    [job] = [o for o in rendered if o["kind"] == "Job" and "bootstrap" in o["metadata"]["name"]]
    assert set(job["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
    [config] = component(rendered, "bootstrap", "ConfigMap")
    polaris = json.loads(config["data"]["polaris-bootstrap.json"])["polaris"]
    assert polaris["catalog"]["name"] == "floe-e2e"
    assert {p["name"] for p in polaris["products"]} == set(PRODUCTS), "each product gets its own principal"
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    secret_env = [e for e in env if e["name"].endswith(("_SECRET", "SECRET_ACCESS_KEY"))]
    assert secret_env and all("secretKeyRef" in e.get("valueFrom", {}) for e in secret_env)


@pytest.mark.requirement("15-FR-003")
def test_every_served_workload_has_readiness_probe_and_bounded_memory(rendered: list[dict[str, Any]]) -> None:
    services = [o for o in rendered if o["kind"] == "Service"]
    problems = []
    for w in (o for o in rendered if o["kind"] in {"Deployment", "StatefulSet"}):
        labels = w["spec"]["template"]["metadata"]["labels"]
        served = any(s["spec"].get("selector") and s["spec"]["selector"].items() <= labels.items() for s in services)
        for c in w["spec"]["template"]["spec"]["containers"]:
            if served and "readinessProbe" not in c:
                problems.append(f"{w['metadata']['name']}/{c['name']}: served but no readinessProbe")
            if not c.get("resources", {}).get("limits", {}).get("memory"):
                problems.append(f"{w['metadata']['name']}/{c['name']}: no memory limit")
    assert problems == []


@pytest.mark.requirement("15-FR-003")
def test_helm_test_pod_checks_every_enabled_service(rendered: list[dict[str, Any]]) -> None:
    [pod] = component(rendered, "test", "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    checked = {c["name"] for c in pod["spec"]["containers"]}
    assert {"polaris", "dagster", "s3", "jaeger"} <= checked, checked


@pytest.mark.requirement("15-FR-003")
def test_changing_products_rolls_dagster_on_upgrade(manifest_path: Path) -> None:
    """An upgrade that changes the code locations changes the pod template, so Helm rolls the pods."""
    from floe.k8s.deploy import CHART, values_from_manifest
    from floe.k8s.render import render_chart
    from floe.platform.controller import load_manifest

    manifest = load_manifest(manifest_path)
    values = ROOT / "charts" / "floe-platform" / "values-test.yaml"

    def checksums(products: list[str]) -> dict[str, str]:
        objs = render_chart(CHART, [values], values=values_from_manifest(manifest, products))
        return {o["metadata"]["name"]: o["spec"]["template"]["metadata"]["annotations"]["checksum/workspace"]
                for o in objs if o["kind"] == "Deployment" and "dagster" in o["metadata"]["name"]}

    before, after = checksums(PRODUCTS), checksums(PRODUCTS[:2])
    assert before and before.keys() == after.keys()
    assert all(before[k] != after[k] for k in before)
    assert checksums(PRODUCTS) == before, "rendering must be deterministic"


@pytest.mark.requirement("15-FR-003")
def test_jobs_chart_renders_one_run_per_product() -> None:
    from floe.k8s.render import render_chart

    jobs = ROOT / "charts" / "floe-jobs"
    objs = render_chart(jobs, [jobs / "values-test.yaml"])
    runs = [o for o in objs if o["kind"] in {"Job", "CronJob"}]
    names = " ".join(o["metadata"]["name"] for o in runs)
    assert len(runs) >= len(PRODUCTS) and all(p in names for p in PRODUCTS), names
