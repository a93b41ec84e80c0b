"""Several products on one platform stay apart: concurrent compiles do not interfere, identities never
collide, and each Dagster code location owns only its own product's assets (FLOE-ISOLATION)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO, PRODUCTS, ROOT
from tests.e2e.conftest import graphql, load_artifacts, wait_for
from tests.e2e.test_dagster import _loaded_locations

pytestmark = pytest.mark.e2e


@pytest.mark.requirement("FLOE-ISOLATION")
def test_concurrent_compiles_equal_sequential_ones(compiled: dict[str, Path], manifest_path: Path,
                                                   tmp_path: Path) -> None:
    def compile_one(product: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "floe.cli.main", "compile", str(DEMO / product), "-m",
                               str(manifest_path), "-o", str(tmp_path / product)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, check=False)

    with ThreadPoolExecutor(len(PRODUCTS)) as pool:
        results = dict(zip(PRODUCTS, pool.map(compile_one, PRODUCTS), strict=True))
    for product, r in results.items():
        assert r.returncode == 0, r.stderr
        assert (tmp_path / product / "compiled_artifacts.json").read_text() == compiled[product].read_text()


@pytest.mark.requirement("FLOE-ISOLATION")
def test_product_identities_never_collide(compiled: dict[str, Path]) -> None:
    arts = [load_artifacts(compiled[p]) for p in PRODUCTS]
    facets = {
        "product_id": [a.identity.product_id for a in arts],
        "namespace": [a.identity.namespace for a in arts],
        "raw_namespace": [a.identity.raw_namespace for a in arts],
        "dbt project": [a.dbt.project_name for a in arts],
        "service": [a.observability.service_name for a in arts],
        "lineage namespace": [a.observability.lineage_namespace for a in arts],
    }
    for what, values in facets.items():
        assert len(set(values)) == len(PRODUCTS), f"{what} collides: {values}"
    every_ns = facets["namespace"] + facets["raw_namespace"]
    assert len(set(every_ns)) == 2 * len(PRODUCTS)
    models = [{m.name for m in a.transforms.models} for a in arts]
    assert all(not (models[i] & models[j]) for i in range(3) for j in range(i + 1, 3)), models


@pytest.mark.requirement("FLOE-ISOLATION")
def test_each_code_location_owns_only_its_products_assets(platform: dict[str, Any]) -> None:
    wait_for(_loaded_locations, timeout=180, what="three loaded code locations")
    data = graphql("{ assetNodes { assetKey { path } repository { location { name } } } }")
    owner: dict[tuple[str, ...], str] = {}
    for n in data["assetNodes"]:
        key, location = tuple(n["assetKey"]["path"]), n["repository"]["location"]["name"]
        assert owner.setdefault(key, location) == location, f"{key} in {owner[key]} and {location}"
        if location in PRODUCTS:
            assert key[0] == location.replace("-", "_"), f"{location} defines foreign asset {key}"
    assert {owner[k] for k in owner} >= set(PRODUCTS)
