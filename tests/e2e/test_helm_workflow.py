"""Release upgrade, history and recovery with Helm's semantics: on the local platform (`floe platform
upgrade` and `recover`: nothing restarts when nothing changed, every service restarts when something
did) and on the floe-platform chart as `floe platform deploy` renders it for this manifest (15-FR-003)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from tests.conftest import PRODUCTS, ROOT
from tests.e2e.conftest import component, floe, platform_status, wait_for
from tests.e2e.test_dagster import _loaded_locations

from floe.home import Home
from floe.platform.release import ReleaseStore

pytestmark = pytest.mark.e2e


# -- the local platform: Helm's rules for upgrade, rollback and recovery ------------------------------------
# In this order: an upgrade that changes nothing (no restart), a stuck release recovered by rolling back
# to the same inputs (no restart either), then one real upgrade (a product changed: every service
# restarts), observed by several tests.
@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-003")
def test_upgrade_with_nothing_changed_keeps_every_service_running(platform: dict[str, Any],
                                                                 manifest_path: Path) -> None:
    """Like `helm upgrade` with identical templates: a new revision, and no pod restarted."""
    before = platform_status()
    result = floe("platform", "upgrade", "-m", str(manifest_path))
    after = platform_status()
    assert after["release"]["revision"] == before["release"]["revision"] + 1
    assert after["release"]["status"] == "deployed" and after["healthy"]
    assert "nothing changed: services kept running" in result.stdout
    assert {s["service"]: s["pid"] for s in after["services"]} == {s["service"]: s["pid"] for s in before["services"]}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-003")
def test_stuck_release_detected_and_recovered(platform: dict[str, Any], manifest_path: Any) -> None:
    store = ReleaseStore(Home.current())
    before = platform_status()
    deployed_before = before["release"]["revision"]
    # an upgrade is in progress (owned by this live process): a second operation is refused
    rev = store.begin("upgrade", manifest_path, timeout=600, description="simulated")
    refused = floe("platform", "upgrade", check=False)
    assert refused.returncode != 0
    assert "in progress" in refused.stderr and "recover" in refused.stderr
    assert "Traceback" not in refused.stderr
    # its owner dies: the release is stuck in pending-upgrade, and status says so
    releases = store.path.read_text().replace(f'"owner_pid": {rev.owner_pid}', f'"owner_pid": {_dead_pid()}')
    store.path.write_text(releases)
    st = platform_status()
    assert st["release"]["status"] == "pending-upgrade"
    assert "gone" in st["release"]["stuck"]
    human = floe("platform", "status").stdout
    assert "stuck" in human and "floe platform recover" in human
    # recover: the stuck revision fails, a rollback revision re-deploys the last deployed manifest; its
    # inputs are what already runs, so (as with Helm) no service restarts
    recovered = floe("platform", "recover")
    assert "nothing changed: services kept running" in recovered.stdout
    st = platform_status()
    assert st["healthy"]
    assert {s["service"]: s["pid"] for s in st["services"]} == {s["service"]: s["pid"] for s in before["services"]}
    history = {h["revision"]: h for h in st["history"]}
    assert history[rev.revision]["status"] == "failed"
    assert st["release"]["status"] == "deployed" and st["release"]["revision"] > rev.revision
    assert history[st["release"]["revision"]]["operation"] == "rollback"
    assert deployed_before in history


CHANGED_MODEL = ROOT / "demo" / "customer-360" / "models" / "marts" / "mart_customer_360.sql"


@pytest.fixture(scope="module")
def upgraded(platform: dict[str, Any], manifest_path: Path, platform_catalog: Any) -> Iterator[dict[str, Any]]:
    """One real upgrade: a data team changed a model, the platform applies it (every service restarts)."""
    catalog = platform_catalog
    ns = f"e2e_upgrade_{uuid.uuid4().hex[:8]}"
    catalog.create_namespace(ns)
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    catalog.create_table(f"{ns}.marker", schema=data.schema).append(data)
    before = platform_status()
    original = CHANGED_MODEL.read_text()
    CHANGED_MODEL.write_text(original + "\n-- changed by floe's e2e upgrade test\n")
    try:
        result = floe("platform", "upgrade", "-m", str(manifest_path))
    finally:
        CHANGED_MODEL.write_text(original)
    after = platform_status()
    yield {"before": before, "after": after, "stdout": result.stdout, "catalog": catalog, "ns": ns, "data": data}


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
    from floe.home import Home

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
