"""floe-jobs chart: one run per data product."""

from __future__ import annotations

import pytest
import yaml

from floe.k8s.render import ChartRenderError

from .conftest import JOBS, JOBS_COMBOS, PLATFORM, containers, labels_of

RUN_KINDS = ("Job", "CronJob")


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
        assert container["command"] == ["floe", "run", product["name"]]
        assert container["workingDir"] == "/app/demo"  # where docker/Dockerfile puts the products
        expected_tag = "dev" if combo == "jobs-test" else "0.1.0"
        assert container["image"] == f"floe:{expected_tag}"


def test_demo_and_test_values_cover_the_three_products(rendered) -> None:
    for combo, kind in (("jobs-test", "Job"), ("jobs-demo", "CronJob")):
        runs = _runs(rendered(combo))
        assert sorted(runs) == ["customer-360", "financial-risk", "iot-telemetry"]
        assert {o["kind"] for o in runs.values()} == {kind}


def test_default_values_run_nothing(rendered) -> None:
    assert _runs(rendered("jobs-default")) == {}


@pytest.mark.parametrize("combo", ["jobs-test", "jobs-demo"])
def test_runs_use_the_platform_secret_and_endpoints(rendered, combo: str) -> None:
    for product, run in _runs(rendered(combo)).items():
        (container,) = list(containers(run))
        env = {e["name"]: e for e in container["env"]}
        slug = product.upper().replace("-", "_")
        for name, key in (
            ("AWS_ACCESS_KEY_ID", "s3-access-key"),
            ("AWS_SECRET_ACCESS_KEY", "s3-secret-key"),
            (f"POLARIS_{slug}_CLIENT_ID", f"polaris-{product}-client-id"),
            (f"POLARIS_{slug}_CLIENT_SECRET", f"polaris-{product}-client-secret"),
        ):
            assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "floe-platform-credentials", "key": key}
        assert env["FLOE_POLARIS_URI"]["value"] == "http://floe-platform-polaris:8181/api/catalog"
        assert env["FLOE_POLARIS_WAREHOUSE"]["value"] == "floe-e2e"
        assert env["OTEL_SERVICE_NAME"]["value"] == product


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


def test_duplicate_products_are_rejected(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r'"p1" is listed twice'):
        render_with(JOBS, (), {"products": [{"name": "p1"}, {"name": "p1"}]})


def test_schema_rejects_unknown_keys_and_bad_schedules(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"additional properties 'product' not allowed"):
        render_with(JOBS, (), {"product": [{"name": "p1"}]})
    with pytest.raises(ChartRenderError, match=r"/products/0/schedule"):
        render_with(JOBS, (), {"products": [{"name": "p1", "schedule": "every hour"}]})


def test_job_names_change_with_the_release_revision() -> None:
    # Job pod templates are immutable; a per-revision name lets `helm upgrade` re-run products.
    template = (JOBS / "templates" / "product-runs.yaml").read_text()
    assert 'printf "%s-r%d" $name (int $.Release.Revision)' in template


def test_platform_and_jobs_agree_on_products() -> None:
    platform = [p["name"] for p in yaml.safe_load((PLATFORM / "values-demo.yaml").read_text())["products"]]
    jobs = [p["name"] for p in yaml.safe_load((JOBS / "values-demo.yaml").read_text())["products"]]
    assert platform == jobs
