"""Demo mode: three self-contained products, each valid on its own from its own folder, medallion
dependencies declared in floe.yaml, seeds reproducible at any scale, and dashboards shipped with the
chart (FLOE-DEMO; the products running on the platform are test_data_pipeline.py's)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS
from tests.e2e.conftest import load_artifacts

pytestmark = pytest.mark.e2e
TIER_ORDER = {"bronze": 0, "silver": 1, "gold": 2}


@pytest.mark.requirement("FLOE-DEMO")
@pytest.mark.parametrize("product", PRODUCTS)
def test_product_validates_standalone_from_its_own_folder(platform: dict[str, Any], product: str) -> None:
    """floe.yaml names its platform manifest, so `floe validate .` works from inside the product."""
    spec = yaml.safe_load((DEMO / product / "floe.yaml").read_text())
    assert (DEMO / product / spec["platform"]["manifest"]).resolve() == (DEMO / "manifest.yaml").resolve()
    r = subprocess.run([sys.executable, "-m", "floe.cli.main", "validate", "."], cwd=DEMO / product,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert f"valid {product}: {len(spec['transforms'])} models checked, 0 errors" in r.stdout


@pytest.mark.requirement("FLOE-DEMO")
@pytest.mark.parametrize("product", PRODUCTS)
def test_medallion_dependencies_flow_from_bronze_to_gold(compiled: dict[str, Path], product: str) -> None:
    models = {m.name: m for m in load_artifacts(compiled[product]).transforms.models}
    assert {m.tier for m in models.values()} == {"bronze", "silver", "gold"}
    for m in models.values():
        for dep in m.depends_on:
            assert TIER_ORDER[models[dep].tier] <= TIER_ORDER[m.tier], f"{m.name} ({m.tier}) depends on {dep}"
        if m.tier != "bronze":
            assert m.depends_on, f"{m.name} is {m.tier} but depends on nothing"
        else:
            assert (m.seeds or m.sources) and not m.depends_on, f"bronze {m.name} must read raw tables only"
    gold = [m for m in models.values() if m.tier == "gold"]
    assert any(models[d].tier == "silver" for g in gold for d in g.depends_on)


@pytest.mark.requirement("FLOE-DEMO")
@pytest.mark.parametrize("product", PRODUCTS)
def test_seed_generator_reproduces_committed_seeds_and_scales(product: str, tmp_path: Path) -> None:
    script = DEMO / product / "scripts" / "generate_seeds.py"
    for scale in ("1", "2"):
        subprocess.run([sys.executable, str(script), "--scale", scale, "--out", str(tmp_path / scale)],
                       check=True, capture_output=True, timeout=120)
    committed = sorted((DEMO / product / "seeds").glob("*.csv"))
    assert [p.name for p in committed] == sorted(p.name for p in (tmp_path / "1").glob("*.csv"))
    for seed in committed:
        assert (tmp_path / "1" / seed.name).read_bytes() == seed.read_bytes(), f"scale 1 differs: {seed.name}"
        with seed.open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) >= 10 and "_loaded_at" in rows[0], seed.name
    grown = {p.name: sum(1 for _ in p.open()) for p in (tmp_path / "2").glob("*.csv")}
    base = {p.name: sum(1 for _ in p.open()) for p in committed}
    assert all(grown[n] >= base[n] for n in base) and any(grown[n] > base[n] for n in base)


@pytest.mark.requirement("FLOE-DEMO")
def test_chart_ships_grafana_dashboards_for_metrics_and_traces(rendered: list[dict[str, Any]]) -> None:
    [dashboards] = [o for o in rendered if o["kind"] == "ConfigMap"
                    and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    datasources: set[str] = set()
    for name, text in dashboards["data"].items():
        board = json.loads(text)
        assert board["panels"], f"{name} has no panels"
        datasources |= {p["datasource"]["uid"] for p in board["panels"] if isinstance(p.get("datasource"), dict)}
    assert {"prometheus", "jaeger"} <= datasources
