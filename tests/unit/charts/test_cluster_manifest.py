"""floe-platform's in-cluster manifest: what the Dagster pods compile products against.

The chart renders manifest.yaml into a ConfigMap; an init container of each Dagster pod compiles
every product against it into the volume the code locations load. These tests load that manifest
as floe does, compile the demo products with it, and check it only points at this release.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from pydantic import BaseModel

from floe.compiler.stages import compile_pipeline
from floe.config._base import SecretRef
from floe.config.manifest import PlatformManifest
from floe.k8s.render import ChartRenderError
from floe.plugins.registry import load_manifest

from .conftest import PLATFORM, PLATFORM_COMBOS, REPO, Rendered, validate_k8s

FULLNAME = "floe-platform"
CONFIGMAP = f"{FULLNAME}-floe-manifest"
SECRET = f"{FULLNAME}-credentials"
ROLES = ("webserver", "daemon")
WITH_PRODUCTS = ["platform-test", "platform-demo", "platform-test+demo"]
# The platform's own Polaris principal: named by the manifest, never resolved by a product's run
# (catalog.principals: per-product), so the Dagster pods do not hold it.
ROOT_PRINCIPAL = {"FLOE_POLARIS_ROOT_CLIENT_ID", "FLOE_POLARIS_ROOT_CLIENT_SECRET"}
DEFAULTS = yaml.safe_load((PLATFORM / "values.yaml").read_text())


def manifest_text(r: Rendered) -> str:
    return str(r.named("ConfigMap", CONFIGMAP)["data"]["manifest.yaml"])


def load_rendered(r: Rendered, tmp_path: Path) -> tuple[Path, PlatformManifest]:
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest_text(r))
    return path, load_manifest(path)


def dagster_pod(r: Rendered, role: str) -> dict[str, Any]:
    return dict(r.named("Deployment", f"{FULLNAME}-dagster-{role}")["spec"]["template"]["spec"])


def secret_env(r: Rendered, role: str) -> dict[str, str]:
    """Env var -> Secret key, for the variables the role's main container gets by secretKeyRef."""
    secret = r.named("Secret", SECRET)["data"]
    env = {}
    for e in dagster_pod(r, role)["containers"][0]["env"]:
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == SECRET and ref["key"] in secret, f"{role}: {e['name']} -> missing {ref}"
            env[e["name"]] = ref["key"]
    return env


def urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [u for v in node.values() for u in urls(v)]
    if isinstance(node, list):
        return [u for v in node for u in urls(v)]
    return [node] if isinstance(node, str) and "://" in node else []


def secret_refs(node: Any) -> list[SecretRef]:
    if isinstance(node, SecretRef):
        return [node]
    if isinstance(node, BaseModel):
        return [s for name in type(node).model_fields for s in secret_refs(getattr(node, name))]
    if isinstance(node, list | tuple):
        return [s for v in node for s in secret_refs(v)]
    return []


def compile_script(r: Rendered, role: str) -> tuple[dict[str, Any], list[list[str]]]:
    init = {c["name"]: c for c in dagster_pod(r, role)["initContainers"]}
    compile_ = init["compile-products"]
    assert compile_["command"][:2] == ["sh", "-ec"], "the first product that fails to compile stops the pod"
    return compile_, [shlex.split(line) for line in compile_["command"][2].splitlines() if line.strip()]


# ----------------------------------------------------------------------------- the manifest


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_manifest_loads_as_a_platform_manifest(rendered, tmp_path: Path, combo: str) -> None:
    _, manifest = load_rendered(rendered(combo), tmp_path)
    plugins = manifest.plugins
    assert (plugins.catalog.type, plugins.storage.type) == ("polaris", "s3")
    assert plugins.catalog.warehouse == ("floe" if combo == "platform-default" else "floe-e2e")
    assert plugins.telemetry_backend is not None and plugins.telemetry_backend.type == "jaeger"
    assert plugins.lineage_backend is not None and plugins.lineage_backend.type == "marquez"
    assert plugins.rbac is not None and plugins.rbac.namespace == "floe-test"
    # governance as the local platform's manifest has it (snapshot retention aside, which demo raises)
    local = load_manifest(REPO / "demo" / "manifest.yaml")
    ours = manifest.governance.model_dump(exclude={"snapshot_keep_last"})
    assert ours == local.governance.model_dump(exclude={"snapshot_keep_last"})
    assert manifest.approved == local.approved


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_every_endpoint_is_a_service_of_this_release(rendered, combo: str) -> None:
    r = rendered(combo)
    text = manifest_text(r)
    assert "127.0.0.1" not in text and "localhost" not in text
    services = {s["metadata"]["name"]: {p["port"] for p in s["spec"]["ports"]} for s in r.kind("Service")}
    found = urls(yaml.safe_load(text))
    assert len(found) == 7, found  # orchestrator, catalog, storage, OTLP, Jaeger query, Marquez, Cube
    for url in found:
        parsed = urlparse(url)
        port = parsed.port or {"http": 80, "https": 443}[parsed.scheme]
        host = str(parsed.hostname)
        assert host in services, f"{url}: no Service {host} in this release"
        assert port in services[host], f"{url}: Service {host} has ports {services[host]}"


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_credentials_are_env_references_the_dagster_pods_receive(rendered, tmp_path: Path, combo: str) -> None:
    r = rendered(combo)
    _, manifest = load_rendered(r, tmp_path)
    # plugins: what runs use (artifacts.registry is `floe artifacts`' and keeps floe's default refs)
    refs = secret_refs(manifest.plugins)
    assert refs and {ref.source for ref in refs} == {"env"}
    for role in ROLES:
        received = secret_env(r, role)
        assert {ref.name for ref in refs} - ROOT_PRINCIPAL <= set(received), role
        assert not ROOT_PRINCIPAL & set(received), f"{role}: holds the Polaris root principal"
        assert received["FLOE_S3_ACCESS_KEY_ID"] == "s3-access-key"


@pytest.mark.parametrize("combo", WITH_PRODUCTS)
def test_demo_products_compile_against_it_and_their_runs_find_every_secret(
    rendered, tmp_path: Path, combo: str
) -> None:
    r = rendered(combo)
    path, _ = load_rendered(r, tmp_path)
    received = secret_env(r, "daemon")
    assert received == secret_env(r, "webserver")
    for product in (p["name"] for p in r.values["products"]):
        artifacts = compile_pipeline(REPO / "demo" / product, path, output_dir=tmp_path / "products" / product)
        assert (tmp_path / "products" / product / "definitions.py").is_file()
        assert artifacts.plugins.storage.config["endpoint"] == f"http://{FULLNAME}-seaweedfs:8333"
        assert artifacts.observability.otlp_endpoint == f"http://{FULLNAME}-otel:4317"
        assert artifacts.observability.lineage_transport is not None
        assert artifacts.observability.lineage_transport["url"] == f"http://{FULLNAME}-marquez:5000"
        # what a run resolves: the product's own principal and the platform's S3 keys
        run_secrets = {str(v) for ref in artifacts.plugins.model_dump().values() if isinstance(ref, dict)
                       for v in ref["config"].values() if str(v).startswith("env:")}
        key = product.upper().replace("-", "_")
        assert run_secrets == {f"env:FLOE_PRODUCT_{key}_CLIENT_ID", f"env:FLOE_PRODUCT_{key}_CLIENT_SECRET",
                               "env:FLOE_S3_ACCESS_KEY_ID", "env:FLOE_S3_SECRET_ACCESS_KEY"}
        assert {name.removeprefix("env:") for name in run_secrets} <= set(received)
        assert received[f"FLOE_PRODUCT_{key}_CLIENT_ID"] == f"polaris-{product}-client-id"
        assert received[f"FLOE_PRODUCT_{key}_CLIENT_SECRET"] == f"polaris-{product}-client-secret"


# ----------------------------------------------------------------------------- compiling in the pods


@pytest.mark.parametrize("combo", WITH_PRODUCTS)
def test_init_container_compiles_every_product_into_the_volume_the_code_locations_load(
    rendered, combo: str
) -> None:
    r = rendered(combo)
    dagster = DEFAULTS["dagster"]
    products = [p["name"] for p in r.values["products"]]
    workspace = yaml.safe_load(r.named("ConfigMap", f"{FULLNAME}-dagster-workspace")["data"]["workspace.yaml"])
    loaded = [e["python_file"]["relative_path"] for e in workspace["load_from"]]
    for role in ROLES:
        pod = dagster_pod(r, role)
        volumes = {v["name"]: v for v in pod["volumes"]}
        container, lines = compile_script(r, role)
        assert container["image"] == pod["containers"][0]["image"]
        assert lines == [
            ["floe", "compile", f"/app/demo/{p}", "--manifest", "/etc/floe/manifest.yaml", "--output",
             f"{dagster['productsDir']}/{p}"]
            for p in products
        ]
        init_mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        main_mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        shared = init_mounts[dagster["productsDir"]]
        assert main_mounts[dagster["productsDir"]] == shared and "emptyDir" in volumes[shared]
        assert volumes[init_mounts["/etc/floe"]]["configMap"]["name"] == CONFIGMAP
        assert loaded == [f"{dagster['productsDir']}/{p}/definitions.py" for p in products]
        assert "checksum/manifest" in r.named("Deployment", f"{FULLNAME}-dagster-{role}")["spec"]["template"][
            "metadata"]["annotations"]


def test_no_compile_step_without_products(rendered) -> None:
    for role in ROLES:
        assert [c["name"] for c in dagster_pod(rendered("platform-default"), role)["initContainers"]] == [
            "wait-for-postgresql"]


def test_a_bad_manifest_stops_the_pod_with_floes_error(render_with, tmp_path: Path) -> None:
    # The chart renders a typo in the platform team's values; the init container is where it shows.
    r = render_with(PLATFORM, ("values-test.yaml",), {"manifest": {"plugins": {"compute": {"memory_limit": "lots"}}}})
    (tmp_path / "manifest.yaml").write_text(manifest_text(r))
    _, lines = compile_script(r, "daemon")
    script = "\n".join(
        shlex.join(a.replace("/etc/floe", str(tmp_path)).replace("/app/demo", str(REPO / "demo"))
                   .replace("/app/products", str(tmp_path / "products")) for a in line)
        for line in lines)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["sh", "-ec", script], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode != 0
    assert "plugins.compute.memory_limit" in proc.stderr and "'lots'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 1, "stops at the first product"
    assert not (tmp_path / "products").exists()


# ----------------------------------------------------------------------------- values


def test_values_lay_plugins_over_the_generated_ones(render_with, tmp_path: Path) -> None:
    values = {
        "manifest": {
            "plugins": {"catalog": {"principals": "shared"}, "lineage_backend": {"type": "console"}},
            # shared principals: the runs use the root principal, so the pods must get it
            "secretEnv": {"FLOE_POLARIS_ROOT_CLIENT_ID": "polaris-root-client-id",
                          "FLOE_POLARIS_ROOT_CLIENT_SECRET": "polaris-root-client-secret"},  # pragma: allowlist secret
        }
    }
    r = render_with(PLATFORM, ("values-test.yaml", "values-demo.yaml"), values)
    path, manifest = load_rendered(r, tmp_path)
    assert manifest.plugins.catalog.principals == "shared"
    assert manifest.plugins.catalog.uri == f"http://{FULLNAME}-polaris:8181/api/catalog"  # merged, not replaced
    assert manifest.plugins.lineage_backend is not None and manifest.plugins.lineage_backend.type == "console"
    artifacts = compile_pipeline(REPO / "demo" / "customer-360", path, output_dir=tmp_path / "out")
    assert artifacts.plugins.catalog.config["client_id"] == "env:FLOE_POLARIS_ROOT_CLIENT_ID"
    for role in ROLES:
        assert secret_env(r, role)["FLOE_POLARIS_ROOT_CLIENT_ID"] == "polaris-root-client-id"
    for deploy in r.kind("Deployment"):
        validate_k8s(deploy)


def test_disabled_services_leave_the_manifest_and_an_external_s3_is_used(render_with, tmp_path: Path) -> None:
    values = {"seaweedfs": {"enabled": False}, "storage": {"endpoint": "https://s3.eu-west-1.amazonaws.com"},
              "jaeger": {"enabled": False}, "marquez": {"enabled": False}, "cube": {"enabled": False}}
    r = render_with(PLATFORM, ("values-test.yaml",), values)
    _, manifest = load_rendered(r, tmp_path)
    plugins = manifest.plugins
    assert plugins.storage.type == "s3" and plugins.storage.endpoint == "https://s3.eu-west-1.amazonaws.com"
    assert plugins.telemetry_backend is not None
    assert plugins.telemetry_backend.type == "otlp" and "query_url" not in plugins.telemetry_backend.model_dump()
    assert plugins.lineage_backend is None and plugins.semantic_layer is None
    r = render_with(PLATFORM, ("values-test.yaml",), {"otel": {"enabled": False}})
    assert load_rendered(r, tmp_path)[1].plugins.telemetry_backend is None


def test_existing_config_map_replaces_the_generated_manifest(render_with) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"manifest": {"existingConfigMap": "team-manifest"}})
    assert [c for c in r.kind("ConfigMap") if c["metadata"]["name"] == CONFIGMAP] == []
    for role in ROLES:
        volumes = {v["name"]: v for v in dagster_pod(r, role)["volumes"]}
        container, _ = compile_script(r, role)
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/floe")
        assert volumes[mount["name"]]["configMap"]["name"] == "team-manifest"
        validate_k8s(r.named("Deployment", f"{FULLNAME}-dagster-{role}"))


def test_without_polaris_the_manifest_needs_a_catalog(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"polaris.enabled=false needs manifest.plugins.catalog"):
        render_with(PLATFORM, ("values-test.yaml",), {"polaris": {"enabled": False}})



def test_deploy_carries_the_manifests_governance_into_the_cluster(render_with, tmp_path: Path) -> None:
    from floe.contract import EnforcementLevel
    from floe.k8s.deploy import values_from_manifest

    local = load_manifest(REPO / "demo" / "manifest.yaml")
    stricter = local.governance.model_copy(update={"naming": None, "snapshot_keep_last": 9,
                                                   "policy_enforcement_level": EnforcementLevel.STRICT})
    local = local.model_copy(update={"governance": stricter})
    values = values_from_manifest(local, ["customer-360"])
    r = render_with(PLATFORM, ("values-test.yaml", "values-demo.yaml"), values)
    _, cluster = load_rendered(r, tmp_path)
    assert cluster.governance == local.governance and cluster.approved == local.approved
    # the endpoints stay the cluster's own
    assert cluster.plugins.catalog.type == "polaris" and "127.0.0.1" not in manifest_text(r)
