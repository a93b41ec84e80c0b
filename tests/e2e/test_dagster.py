"""Dagster on the platform: one loaded code location per product, assets for every model (15-FR-007)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import PRODUCTS
from tests.e2e.conftest import graphql, wait_for

pytestmark = pytest.mark.e2e


def _loaded_locations() -> set[str] | None:
    data = graphql("""{ workspaceOrError { __typename ... on Workspace { locationEntries {
        name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
    entries = data["workspaceOrError"]["locationEntries"]
    errors = [e for e in entries
              if e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] == "PythonError"]
    assert not errors, errors
    loaded = {e["name"] for e in entries if e["loadStatus"] == "LOADED"}
    return loaded if set(PRODUCTS) <= loaded else None


@pytest.mark.requirement("15-FR-007")
def test_three_code_locations_loaded(platform: dict[str, Any]) -> None:
    assert wait_for(_loaded_locations, timeout=180, what="three loaded code locations") >= set(PRODUCTS)


@pytest.mark.requirement("15-FR-007")
def test_repositories_query_uses_current_api(platform: dict[str, Any]) -> None:
    wait_for(_loaded_locations, timeout=180, what="code locations")
    data = graphql("""{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
        name location { name } jobs { name } schedules { name } sensors { name } } }
        ... on PythonError { message } } }""")
    nodes = data["repositoriesOrError"]["nodes"]
    by_location = {n["location"]["name"]: n for n in nodes}
    assert set(PRODUCTS) <= set(by_location)
    for product in PRODUCTS:
        slug = product.replace("-", "_")
        jobs = {j["name"] for j in by_location[product]["jobs"]}
        assert f"{slug}_job" in jobs
        assert f"{slug}_schedule" in {s["name"] for s in by_location[product]["schedules"]}


@pytest.mark.requirement("15-FR-009")
def test_sensor_has_an_explicit_job(platform: dict[str, Any]) -> None:
    wait_for(_loaded_locations, timeout=180, what="code locations")
    data = graphql("""{ repositoriesOrError { ... on RepositoryConnection { nodes { location { name }
        sensors { name targets { pipelineName } } } } } }""")
    sensors = [s for n in data["repositoriesOrError"]["nodes"] if n["location"]["name"] == "iot-telemetry"
               for s in n["sensors"]]
    assert sensors and sensors[0]["targets"][0]["pipelineName"] == "iot_telemetry_job"


@pytest.mark.requirement("15-FR-007")
def test_assets_for_every_model(platform: dict[str, Any]) -> None:
    from tests.conftest import DEMO

    from floe.compiler.stages import compile_pipeline

    wait_for(_loaded_locations, timeout=180, what="code locations")
    data = graphql("{ assetNodes { assetKey { path } } }")
    keys = {tuple(n["assetKey"]["path"]) for n in data["assetNodes"]}
    for product in PRODUCTS:
        a = compile_pipeline(DEMO / product)
        for m in a.transforms.models:
            assert (a.identity.slug, m.name) in keys, f"no asset for {product} {m.name}"
