"""Generated definitions: golden files (MetricFlow for dbt and native, Cube), valid to MetricFlow itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import PRODUCTS
from tests.unit.semantic.conftest import demo_semantic

from floe.plugins.semantic.cube import cube_model
from floe.plugins.semantic.metricflow_model import dbt_semantic_yaml, metricflow_yaml

GOLDEN = Path(__file__).parent / "golden"


def _check_golden(path: Path, produced: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(produced)
    assert path.exists(), f"{path} missing; run pytest with --update-golden"
    assert produced == path.read_text(), f"{path.name} changed; rerun with --update-golden if intended"


@pytest.mark.parametrize("product", PRODUCTS)
def test_golden_definitions(product: str, update_golden: bool) -> None:
    spec = demo_semantic(product)
    ns = product.replace("-", "_")
    _check_golden(GOLDEN / product / "dbt_semantic.yml", dbt_semantic_yaml(spec), update_golden)
    _check_golden(GOLDEN / product / "metricflow.yml", metricflow_yaml(spec, ns), update_golden)
    _check_golden(GOLDEN / product / "cube.yml",
                  yaml.safe_dump({"cubes": cube_model(spec, ns)}, sort_keys=False), update_golden)


def test_metricflow_shapes() -> None:
    spec = demo_semantic("customer-360")
    dbt = yaml.safe_load(dbt_semantic_yaml(spec))
    customers, transactions = dbt["semantic_models"]
    assert customers["model"] == "ref('mart_customer_360')"
    assert customers["defaults"] == {"agg_time_dimension": "signup_date"}
    assert customers["entities"] == [{"name": "customer", "type": "primary", "expr": "customer_id"}]
    assert {"name": "signup_date", "type": "time", "expr": "signup_date", "description": "Day the customer signed up.",
            "type_params": {"time_granularity": "day"}} in customers["dimensions"]
    assert {"name": "transactions", "agg": "count", "expr": "1"} in transactions["measures"]
    assert {"name": "customer", "type": "foreign", "expr": "customer_id"} in transactions["entities"]
    metrics = {m["name"]: m for m in dbt["metrics"]}
    assert metrics["customer_count"]["type_params"] == {"measure": "distinct_customers"}
    assert metrics["avg_lifetime_value"]["type"] == "derived"
    assert metrics["avg_lifetime_value"]["type_params"] == {
        "expr": "lifetime_value / customer_count", "metrics": [{"name": "lifetime_value"}, {"name": "customer_count"}]}
    assert metrics["lifetime_value"]["label"] == "Lifetime value (USD)"
    assert metrics["transaction_count"]["label"] == "Transaction count"
    native = list(yaml.safe_load_all(metricflow_yaml(spec, "customer_360")))
    assert native[1]["semantic_model"]["node_relation"] == {"schema_name": "customer_360", "alias": "mart_customer_360"}
    assert native[0]["project_configuration"]["time_spines"][0]["primary_column"]["name"] == "date_day"


def test_avg_is_metricflow_average() -> None:
    spec = demo_semantic("iot-telemetry")
    measures = yaml.safe_load(dbt_semantic_yaml(spec))["semantic_models"][0]["measures"]
    assert {"name": "health_score", "agg": "average", "expr": "health_score"} in measures


def test_cube_joins_members_and_metric_measures() -> None:
    cubes = {c["name"]: c for c in cube_model(demo_semantic("customer-360"), "customer_360")}
    customers, transactions = cubes["customers"], cubes["transactions"]
    assert customers["sql_table"] == "customer_360.mart_customer_360"
    assert transactions["joins"] == [{"name": "customers", "relationship": "many_to_one",
                                      "sql": "{CUBE}.customer_id = {customers}.customer_id"}]
    assert {"name": "customer", "sql": "customer_id", "type": "string", "primary_key": True,
            "public": True} in customers["dimensions"]
    assert {"name": "signup_date", "sql": "signup_date", "type": "time",
            "description": "Day the customer signed up."} in customers["dimensions"]
    measures = {m["name"]: m for m in customers["measures"]}
    assert measures["distinct_customers"] == {"name": "distinct_customers", "type": "count_distinct",
                                              "sql": "customer_id"}
    assert measures["customer_count"]["sql"] == "{distinct_customers}"
    assert measures["avg_lifetime_value"]["sql"] == "{customers.lifetime_value} / {customers.customer_count}"
    assert measures["lifetime_value"]["title"] == "Lifetime value (USD)"  # metric == measure: described in place
    tx = {m["name"]: m for m in transactions["measures"]}
    assert tx["transactions"] == {"name": "transactions", "type": "count"}
    assert tx["transaction_count"]["sql"] == "{transactions}"


@pytest.mark.parametrize("product", PRODUCTS)
def test_metricflow_accepts_the_generated_definitions(product: str) -> None:
    from metricflow_semantic_interfaces.parsing.dir_to_model import (
        parse_yaml_files_to_validation_ready_semantic_manifest,
    )
    from metricflow_semantic_interfaces.parsing.objects import YamlConfigFile
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    text = metricflow_yaml(demo_semantic(product), product.replace("-", "_"))
    built = parse_yaml_files_to_validation_ready_semantic_manifest([YamlConfigFile(filepath="x.yml", contents=text)])
    result = SemanticManifestValidator().validate_semantic_manifest(built.semantic_manifest)
    assert [i.message for i in result.all_issues] == []
