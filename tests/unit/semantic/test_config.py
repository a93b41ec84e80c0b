"""The `semantic:` section on its own: valid sections load; bad ones name the key and the fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PRODUCTS
from tests.unit.semantic.conftest import demo_semantic, load_semantic

from floe.errors import ConfigError


@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_sections_have_two_metrics_and_two_dimensions(product: str) -> None:
    spec = demo_semantic(product)
    assert len(spec.metrics) >= 2
    assert len(list(spec.dimensions())) >= 2
    assert any(e.type == "foreign" for m in spec.models for e in m.entities), "each demo shows a join"


def test_valid_section_loads_frozen(tmp_path: Path, shop: dict[str, Any]) -> None:
    spec = load_semantic(tmp_path, shop)
    assert spec.model("orders").agg_time_dimension == "order_date"
    assert spec.model("orders").columns() == ["order_id", "customer_id", "region", "order_date", "amount"]
    assert spec.metric("revenue_per_order").referenced_metrics() == ["revenue", "orders"]  # type: ignore[union-attr]
    assert spec.base_measures("revenue_per_order") == ["revenue", "order_rows"]
    with pytest.raises(Exception, match="frozen"):
        spec.models[0].name = "x"  # type: ignore[misc]


def _error(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        load_semantic(tmp_path, data)
    return str(err.value)


def test_unknown_key_named_with_its_path(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["measures"][0]["aggregate"] = "sum"
    text = _error(tmp_path, shop)
    assert "semantic.models[1].measures[0].aggregate" in text and "unknown key" in text


def test_unknown_aggregation_lists_allowed(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["measures"][0]["agg"] = "median"
    text = _error(tmp_path, shop)
    assert "semantic.models[1].measures[0].agg" in text
    assert "'median'" in text
    for agg in ("sum", "count", "count_distinct", "avg", "min", "max"):
        assert agg in text


def test_dimension_type_must_be_categorical_or_time(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][0]["dimensions"][0]["type"] = "number"
    text = _error(tmp_path, shop)
    assert "semantic.models[0].dimensions[0].type" in text and "'categorical'" in text and "'time'" in text


@pytest.mark.parametrize(("name", "why"), [
    ("Revenue", "lower_snake_case"), ("total__revenue", "lower_snake_case"), ("r", "lower_snake_case"),
    ("metric_time", "reserved"), ("month", "reserved"),
])
def test_names_follow_metricflow_rules(tmp_path: Path, shop: dict[str, Any], name: str, why: str) -> None:
    shop["metrics"][0]["name"] = name
    text = _error(tmp_path, shop)
    assert "semantic.metrics[0].name" in text and why in text and repr(name) in text


def test_column_must_be_a_column_not_an_expression(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["measures"][0]["column"] = "amount * 2"
    text = _error(tmp_path, shop)
    assert "semantic.models[1].measures[0].column" in text and "plain column name" in text


def test_measure_needs_column_unless_count(tmp_path: Path, shop: dict[str, Any]) -> None:
    del shop["models"][1]["measures"][0]["column"]
    text = _error(tmp_path, shop)
    assert "semantic.models[1].measures[0]" in text and "'revenue'" in text and "needs a column" in text


def test_metric_needs_measure_or_expression(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["metrics"][0]["expression"] = "orders * 2"
    text = _error(tmp_path, shop)
    assert "semantic.metrics[0]" in text and "exactly one of measure" in text


def test_metric_unknown_measure_lists_declared(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["metrics"][0]["measure"] = "revenu"
    text = _error(tmp_path, shop)
    assert "metrics[0] (revenue): measure 'revenu' is not declared" in text
    assert "order_rows" in text and "revenue" in text


def test_expression_may_use_only_metrics(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["metrics"][5]["expression"] = "revenue / amount"
    text = _error(tmp_path, shop)
    assert "metrics[5] (revenue_per_order)" in text and "'amount'" in text and "not a metric" in text


def test_expression_functions_and_strings_are_not_metric_names(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["metrics"][5]["expression"] = "coalesce(revenue, 0) / greatest(orders, 1) + length('revenue x')"
    spec = load_semantic(tmp_path, shop)
    assert spec.metrics[5].referenced_metrics() == ["revenue", "orders"]


def test_expression_cycle_is_refused(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["metrics"].append({"name": "a_metric", "expression": "b_metric + revenue"})
    shop["metrics"].append({"name": "b_metric", "expression": "a_metric * 2"})
    text = _error(tmp_path, shop)
    assert "cycle" in text and "a_metric -> b_metric -> a_metric" in text


def test_model_needs_one_primary_entity(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["entities"][0]["type"] = "unique"
    text = _error(tmp_path, shop)
    assert "semantic.models[1]" in text and "exactly one entity with type: primary" in text


def test_measures_need_a_time_dimension(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["dimensions"] = [{"name": "region"}]
    text = _error(tmp_path, shop)
    assert "semantic.models[1]" in text and "no time dimension" in text and "type: time" in text


def test_foreign_entity_must_join_something(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["entities"][1]["name"] = "client"
    text = _error(tmp_path, shop)
    assert "models[1].entities[1]: foreign entity 'client'" in text and "joins nothing" in text


def test_dimension_names_unique_across_models(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["dimensions"][0]["name"] = "segment"
    text = _error(tmp_path, shop)
    assert "dimension 'segment' is declared in models 'customers' and 'orders'" in text


def test_measure_names_unique_across_models(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][0]["measures"][0]["name"] = "revenue"
    shop["models"][0]["measures"][0]["column"] = "customer_id"
    text = _error(tmp_path, shop)
    assert "measure 'revenue' is declared in models 'customers' and 'orders'" in text


def test_granularity_only_on_time_dimensions(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][0]["dimensions"][0]["granularity"] = "month"
    text = _error(tmp_path, shop)
    assert "semantic.models[0].dimensions[0]" in text and "only allowed with type: time" in text


def test_time_dimension_must_be_a_time_dimension(tmp_path: Path, shop: dict[str, Any]) -> None:
    shop["models"][1]["time_dimension"] = "region"
    text = _error(tmp_path, shop)
    assert "time_dimension 'region' is not one of its time dimensions (order_date)" in text


def test_needs_models_and_metrics(tmp_path: Path, shop: dict[str, Any]) -> None:
    data = copy.deepcopy(shop)
    data["metrics"] = []
    assert "semantic.metrics" in _error(tmp_path, data)
