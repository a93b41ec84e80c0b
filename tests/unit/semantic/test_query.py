"""Query names -> MetricFlow names: what a person types, and the errors when it is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.semantic.conftest import load_semantic

from floe.plugins.semantic.query import group_by_name, resolve_query, translate_where
from floe.semantic import QueryRequest, SemanticQueryError


@pytest.fixture
def spec(tmp_path: Path, shop: dict[str, Any]) -> Any:
    return load_semantic(tmp_path, shop)


@pytest.mark.parametrize(("name", "mf"), [
    ("segment", "customer__segment"),
    ("region", "order__region"),
    ("order_date", "order__order_date__day"),
    ("order_date__month", "order__order_date__month"),
    ("signup_date__year", "customer__signup_date__year"),
    ("metric_time", "metric_time__day"),
    ("metric_time__quarter", "metric_time__quarter"),
    ("customer", "customer"),
])
def test_group_by_names(spec: Any, name: str, mf: str) -> None:
    assert group_by_name(spec, name) == mf


def test_unknown_group_by_lists_dimensions(spec: Any) -> None:
    with pytest.raises(SemanticQueryError) as err:
        group_by_name(spec, "country")
    text = str(err.value)
    assert "unknown dimension 'country'" in text
    assert "segment" in text and "order_date[__day|__month|...]" in text and "metric_time" in text


def test_categorical_dimension_has_no_grain(spec: Any) -> None:
    with pytest.raises(SemanticQueryError, match="categorical dimension and has no time grain"):
        group_by_name(spec, "segment__month")


def test_where_translates_names_and_keeps_literals(spec: Any) -> None:
    where = "segment = 'region' and order_date >= date '2024-01-01' or lower(region) in ('eu', 'us')"
    assert translate_where(spec, where) == (
        "{{ Dimension('customer__segment') }} = 'region' and "
        "{{ TimeDimension('order__order_date', 'day') }} >= date '2024-01-01' or "
        "lower({{ Dimension('order__region') }}) in ('eu', 'us')")


def test_where_time_grain_entity_and_metric_time(spec: Any) -> None:
    assert translate_where(spec, "order_date__month = '2024-01-01' and customer = 7 and metric_time > '2024'") == (
        "{{ TimeDimension('order__order_date', 'month') }} = '2024-01-01' and {{ Entity('customer') }} = 7 "
        "and {{ TimeDimension('metric_time', 'day') }} > '2024'")


def test_where_in_metricflow_syntax_passes_through(spec: Any) -> None:
    text = "{{ Dimension('order__region') }} = 'eu'"
    assert translate_where(spec, text) == text


def test_where_unknown_name_is_a_clear_error(spec: Any) -> None:
    with pytest.raises(SemanticQueryError) as err:
        translate_where(spec, "country = 'dk'")
    assert "unknown name 'country'" in str(err.value) and "quote text values" in str(err.value)


def test_resolve_orders_by_group_bys_and_maps_columns_back(spec: Any) -> None:
    q = resolve_query(spec, QueryRequest(metrics=["revenue", "orders"], group_by=["segment", "order_date__month"]))
    assert q.group_by == ["customer__segment", "order__order_date__month"]
    assert q.order_by == ["customer__segment", "order__order_date__month"]
    assert q.column_names == {"customer__segment": "segment", "order__order_date__month": "order_date__month",
                              "revenue": "revenue", "orders": "orders"}


def test_resolve_descending_order_by_metric(spec: Any) -> None:
    q = resolve_query(spec, QueryRequest(metrics=["revenue"], group_by=["region"], order_by=["-revenue"], limit=3))
    assert q.order_by == ["-revenue"] and q.limit == 3


@pytest.mark.parametrize(("request_", "message"), [
    (QueryRequest(metrics=[]), "no metric asked for"),
    (QueryRequest(metrics=["revenu"]), "unknown metric 'revenu'"),
    (QueryRequest(metrics=["revenue", "revenue"]), "asked for twice"),
    (QueryRequest(metrics=["revenue"], group_by=["region", "region"]), "given twice"),
    (QueryRequest(metrics=["revenue"], order_by=["orders"]), "neither a queried metric nor a --group-by"),
    (QueryRequest(metrics=["revenue"], limit=0), "--limit must be at least 1"),
])
def test_resolve_errors(spec: Any, request_: QueryRequest, message: str) -> None:
    with pytest.raises(SemanticQueryError, match=message) as err:
        resolve_query(spec, request_)
    if "unknown metric" in message:
        assert "revenue, orders, customers" in str(err.value)
