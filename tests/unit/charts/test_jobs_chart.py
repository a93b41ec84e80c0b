"""floe-jobs chart: one run per data product, compiled against the floe-platform release's manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from floe.cli.main import app
from floe.compiler.stages import compile_pipeline, default_output_dir
from floe.k8s.render import ChartRenderError
from floe.plugins.registry import load_manifest

from .conftest import JOBS, JOBS_COMBOS, PLATFORM, REPO, containers, labels_of, pod_specs, validate_k8s

RUN_KINDS = ("Job", "CronJob")
MANIFEST = "/etc/floe/manifest.yaml"
SECRET = "floe-platform-credentials"  # pragma: allowlist secret
# read by floe.telemetry for the compile step's spans; everything else a run needs is in the manifest
TELEMETRY_ENV = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}


def _runs(r) -> dict[str, dict]:
    runs = [o for o in r.objects if o["kind"] in RUN_KINDS]
    by_product = {labels_of(o)["floe.dev/product"]: o for o in runs}
    assert len(by_product) == len(runs), "one run object per product"
    return by_product


@pytest.mark.parametrize("combo", JOBS_COMBOS)
def test_one_job_or_cronjob_per_product(rendered, combo: str) -> None:
    r = rendered(combo)
    products = r.values.get("products", [])
    runs = _runs(r)
    assert list(runs) == [p["name"] for p in products]
    for product in products:
        run = runs[product["name"]]
        assert run["kind"] == ("CronJob" if product.get("schedule") else "Job")
        if run["kind"] == "CronJob":
            assert run["spec"]["schedule"] == product["schedule"]
            assert run["spec"]["concurrencyPolicy"] == "Forbid"
        (container,) = [c for c in containers(run)]
        # the product's sources where docker/Dockerfile puts them, against the platform's manifest
        assert container["command"] == ["floe", "run", f"/app/demo/{product['name']}", "-m", MANIFEST]
        assert container["workingDir"] == "/app/demo"
        expected_tag = "dev" if combo == "jobs-test" else "0.1.0"
        assert container["image"] == f"floe:{expected_tag}"


def test_demo_and_test_values_cover_the_three_products(rendered) -> None:
    for combo, kind in (("jobs-test", "Job"), ("jobs-demo", "CronJob")):
        runs = _runs(rendered(combo))
        assert sorted(runs) == ["customer-360", "financial-risk", "iot-telemetry"]
        assert {o["kind"] for o in runs.values()} == {kind}


def test_default_values_run_nothing(rendered) -> None:
    assert _runs(rendered("jobs-default")) == {}


def _pod(run: dict[str, Any]) -> dict[str, Any]:
    ((spec, _),) = list(pod_specs(run))
    return spec


def _secret_env(container: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}


@pytest.fixture(scope="module")
def platform_manifest(rendered, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest floe-platform's values-test release puts in its ConfigMap, as a file."""
    config_map = rendered("platform-test").named("ConfigMap", "floe-platform-floe-manifest")
    path = tmp_path_factory.mktemp("platform") / "manifest.yaml"
    path.write_text(config_map["data"]["manifest.yaml"])
    return path


@pytest.mark.parametrize("combo", ["jobs-test", "jobs-demo"])
def test_runs_mount_the_platform_manifest_and_compile_into_an_emptydir(
    rendered, platform_manifest: Path, combo: str
) -> None:
    manifest = load_manifest(platform_manifest)
    platform = rendered("platform-test")
    for product, run in _runs(rendered(combo)).items():
        pod = _pod(run)
        (container,) = pod["containers"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        config_map = volumes[mounts["/etc/floe"]["name"]]["configMap"]["name"]
        assert mounts["/etc/floe"]["readOnly"] is True
        assert platform.named("ConfigMap", config_map)["data"]["manifest.yaml"]
        # `floe run` compiles to <product>/target/floe/<manifest name>: inside a volume the pod can write
        target = mounts[f"/app/demo/{product}/target"]
        assert volumes[target["name"]] == {"name": target["name"], "emptyDir": {}}
        out = default_output_dir(Path(f"/app/demo/{product}/floe.yaml"), manifest)
        assert out.is_relative_to(target["mountPath"]), out


@pytest.mark.parametrize("combo", ["jobs-test", "jobs-demo"])
def test_runs_get_exactly_the_secrets_their_compiled_artifacts_reference(
    rendered, platform_manifest: Path, tmp_path: Path, combo: str
) -> None:
    dagster_env = _secret_env(rendered("platform-test").named("Deployment", "floe-platform-dagster-daemon")[
        "spec"]["template"]["spec"]["containers"][0])
    for product, run in _runs(rendered(combo)).items():
        compile_pipeline(REPO / "demo" / product, platform_manifest, output_dir=tmp_path / product)
        artifacts = (tmp_path / product / "compiled_artifacts.json").read_text()
        referenced = set(re.findall(r'"env:([A-Za-z_][A-Za-z0-9_]*)"', artifacts))
        key = product.upper().replace("-", "_")
        assert referenced == {f"FLOE_PRODUCT_{key}_CLIENT_ID", f"FLOE_PRODUCT_{key}_CLIENT_SECRET",
                              "FLOE_S3_ACCESS_KEY_ID", "FLOE_S3_SECRET_ACCESS_KEY"}
        (container,) = _pod(run)["containers"]
        secrets = _secret_env(container)
        assert set(secrets) == referenced, "exactly its own principal and the S3 keys"
        for name, ref in secrets.items():
            assert ref == dagster_env[name] and ref["name"] == SECRET, f"{name}: not what the platform pods get"
        # no endpoint env: the manifest is the only place a run reads them from
        assert {e["name"] for e in container["env"]} == set(secrets) | TELEMETRY_ENV | {"HOME"}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["OTEL_SERVICE_NAME"] == product
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://floe-platform-otel:4317"


def test_the_run_command_is_what_floe_run_accepts(rendered) -> None:
    floe_run = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    for product, run in _runs(rendered("jobs-test")).items():
        (container,) = _pod(run)["containers"]
        assert container["command"][:2] == ["floe", "run"]
        params = floe_run.make_context("run", container["command"][2:]).params
        assert list(params["products"]) == [Path(f"/app/demo/{product}")]
        assert params["manifest"] == Path(MANIFEST) and params["platform"] is False


@pytest.mark.parametrize("combo", JOBS_COMBOS)
def test_rendered_objects_are_valid_and_name_no_loopback_endpoint(rendered, combo: str) -> None:
    r = rendered(combo)
    text = json.dumps(r.objects)
    assert "127.0.0.1" not in text and "localhost" not in text
    for obj in r.objects:
        validate_k8s(obj)


def test_job_keys_match_what_the_platform_secret_holds(rendered) -> None:
    """Every secretKeyRef of a product run names a key the floe-platform Secret really has."""
    platform_secret = rendered("platform-test").named("Secret", "floe-platform-credentials")
    keys = set(platform_secret["data"])
    for run in _runs(rendered("jobs-test")).values():
        for env in next(iter(containers(run)))["env"]:
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in keys, ref


def test_product_overrides_image_env_and_args(render_with) -> None:
    r = render_with(
        JOBS,
        (),
        {
            "products": [
                {
                    "name": "p1",
                    "image": {"tag": "1.2.3"},
                    "env": {"FLOE_LOG_LEVEL": "debug"},
                    "extraArgs": ["--full-refresh"],
                }
            ]
        },
    )
    (container,) = list(containers(_runs(r)["p1"]))
    assert container["image"] == "floe:1.2.3"
    assert container["args"] == ["--full-refresh"]
    assert {"name": "FLOE_LOG_LEVEL", "value": "debug"} in container["env"]


def test_platform_values_override_the_manifest_secret_and_otel_endpoint(render_with) -> None:
    values = {
        "platform": {
            "fullname": "team-platform",
            "manifestConfigMap": "team-manifest",
            "credentialsSecret": "team-credentials",  # pragma: allowlist secret
            "secretEnv": {"FLOE_POLARIS_ROOT_CLIENT_ID": "polaris-root-client-id"},
            "otelEndpoint": "http://collector.observability:4317",
        },
        "products": [{"name": "sales-eu-2", "workingDir": "/srv/products"}],
    }
    r = render_with(JOBS, (), values)
    pod = _pod(_runs(r)["sales-eu-2"])
    (container,) = pod["containers"]
    assert container["command"] == ["floe", "run", "/srv/products/sales-eu-2", "-m", MANIFEST]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert volumes[mounts["/etc/floe"]]["configMap"]["name"] == "team-manifest"
    assert "emptyDir" in volumes[mounts["/srv/products/sales-eu-2/target"]]
    assert _secret_env(container) == {
        name: {"name": "team-credentials", "key": key}
        for name, key in (("FLOE_S3_ACCESS_KEY_ID", "s3-access-key"), ("FLOE_S3_SECRET_ACCESS_KEY", "s3-secret-key"),
                          ("FLOE_PRODUCT_SALES_EU_2_CLIENT_ID", "polaris-sales-eu-2-client-id"),
                          ("FLOE_PRODUCT_SALES_EU_2_CLIENT_SECRET", "polaris-sales-eu-2-client-secret"),
                          ("FLOE_POLARIS_ROOT_CLIENT_ID", "polaris-root-client-id"))
    }
    assert {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://collector.observability:4317"} in container["env"]
    for obj in r.objects:
        validate_k8s(obj)
    # without an override the ConfigMap follows platform.fullname
    r = render_with(JOBS, (), {"platform": {"fullname": "team-platform"}, "products": [{"name": "p1"}]})
    volumes = {v["name"]: v for v in _pod(_runs(r)["p1"])["volumes"]}
    assert volumes["floe-manifest"]["configMap"]["name"] == "team-platform-floe-manifest"


def test_duplicate_products_are_rejected(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r'"p1" is listed twice'):
        render_with(JOBS, (), {"products": [{"name": "p1"}, {"name": "p1"}]})


def test_schema_rejects_unknown_keys_and_bad_schedules(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"additional properties 'product' not allowed"):
        render_with(JOBS, (), {"product": [{"name": "p1"}]})
    with pytest.raises(ChartRenderError, match=r"/products/0/schedule"):
        render_with(JOBS, (), {"products": [{"name": "p1", "schedule": "every hour"}]})
    # endpoints come from the platform's manifest now; a values file still setting them is told so
    with pytest.raises(ChartRenderError, match=r"additional properties 'endpoints' not allowed"):
        render_with(JOBS, (), {"platform": {"endpoints": {"polaris": "http://polaris:8181"}}})


def test_job_names_change_with_the_release_revision() -> None:
    # Job pod templates are immutable; a per-revision name lets `helm upgrade` re-run products.
    template = (JOBS / "templates" / "product-runs.yaml").read_text()
    assert 'printf "%s-r%d" $name (int $.Release.Revision)' in template


def test_platform_and_jobs_agree_on_products() -> None:
    platform = [p["name"] for p in yaml.safe_load((PLATFORM / "values-demo.yaml").read_text())["products"]]
    jobs = [p["name"] for p in yaml.safe_load((JOBS / "values-demo.yaml").read_text())["products"]]
    assert platform == jobs
