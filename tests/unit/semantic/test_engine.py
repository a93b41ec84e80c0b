"""MetricFlow plans, DuckDB computes: the numbers equal hand-written SQL (small in-memory tables)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.unit.semantic.conftest import load_semantic

from floe.plugins.semantic.metricflow_engine import explain_sql, new_connection, run_sql
from floe.plugins.semantic.query import resolve_query
from floe.semantic import QueryRequest, SemanticQueryError


@pytest.fixture
def spec(tmp_path: Path, shop: dict[str, Any]) -> Any:
    return load_semantic(tmp_path, shop)


@pytest.fixture
def con() -> Iterator[Any]:
    c = new_connection("shop")
    c.execute("""create table shop.mart_customers as select * from (values
        (1, 'smb', date '2023-01-05'), (2, 'enterprise', date '2023-03-01'), (3, 'smb', date '2024-02-10'),
        (4, 'startup', date '2024-06-30')) t(customer_id, segment, signup_date)""")
    c.execute("""create table shop.stg_orders as select * from (values
        (10, 1, 'eu', 100.50::decimal(10,2), date '2024-01-03'), (11, 1, 'eu', 20.00, date '2024-02-01'),
        (12, 2, 'us', 300.25, date '2024-02-11'), (13, 3, 'eu', 5.00, date '2024-02-28'),
        (14, 9, 'us', 7.75, date '2024-03-01')) t(order_id, customer_id, region, amount, order_date)""")
    yield c
    c.close()


def _q(spec: Any, con: Any, **kw: Any) -> list[tuple[Any, ...]]:
    return run_sql(con, spec, "shop", resolve_query(spec, QueryRequest(**kw))).rows


def test_metric_grouped_by_own_dimension(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["revenue", "orders", "avg_amount"], group_by=["region"])
    want = con.execute("select region, sum(amount), count(*), avg(amount) from shop.stg_orders "
                       "group by region order by region").fetchall()
    assert got == want
    assert got[0] == ("eu", Decimal("125.50"), 3, pytest.approx(41.8333333))


def test_join_through_foreign_entity(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["revenue", "buyers"], group_by=["segment"])
    want = con.execute("""select c.segment, sum(o.amount), count(distinct o.customer_id) from shop.stg_orders o
                          left join shop.mart_customers c using (customer_id) group by c.segment
                          order by c.segment nulls last""").fetchall()
    assert got == want  # the order of customer 9 (not in CRM) lands under NULL, as a left join does


def test_metrics_from_two_models_and_derived(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["customers", "revenue", "revenue_per_order"], group_by=["segment"],
             where=["segment != 'enterprise'"])
    assert got == [("smb", 2, Decimal("125.50"), pytest.approx(125.50 / 3)),
                   ("startup", 1, None, None)]


def test_time_grain_and_where(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["revenue"], group_by=["order_date__month"], where=["region = 'eu'"])
    want = con.execute("select date_trunc('month', order_date), sum(amount) from shop.stg_orders "
                       "where region = 'eu' group by 1 order by 1").fetchall()
    assert got == want


def test_metric_time_uses_each_models_time_dimension(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["customers", "orders"], group_by=["metric_time__year"])
    assert [(r[0].year, r[1], r[2]) for r in got] == [(2023, 2, None), (2024, 2, 5)]


def test_order_by_descending_and_limit(spec: Any, con: Any) -> None:
    got = _q(spec, con, metrics=["revenue"], group_by=["region"], order_by=["-revenue"], limit=1)
    assert got == [("us", Decimal("308.00"))]


def test_result_columns_use_the_asked_names(spec: Any, con: Any) -> None:
    result = run_sql(con, spec, "shop", resolve_query(
        spec, QueryRequest(metrics=["orders", "revenue"], group_by=["region", "segment"])))
    assert result.columns == ["region", "segment", "orders", "revenue"]
    assert result.as_dicts()[0].keys() == {"region", "segment", "orders", "revenue"}


def test_unreachable_dimension_is_a_clear_error(spec: Any, con: Any) -> None:
    with pytest.raises(SemanticQueryError) as err:
        _q(spec, con, metrics=["customers"], group_by=["region"])
    assert "MetricFlow cannot answer this query" in str(err.value)
    text = str(err.value)
    assert "Query Input:\n    region" in text and "Suggestions" in text and "'segment'" in text
    assert "entities (joins)" in text


def test_explain_reads_no_table(spec: Any) -> None:
    sql = explain_sql(spec, "shop", resolve_query(spec, QueryRequest(metrics=["buyers"], group_by=["segment"])))
    assert "COUNT(DISTINCT" in sql and "shop.stg_orders" in sql and "shop.mart_customers" in sql
    assert "LEFT OUTER JOIN" in sql


def test_malformed_where_is_a_clear_error(spec: Any, con: Any) -> None:
    with pytest.raises(SemanticQueryError) as err:
        _q(spec, con, metrics=["revenue"], where=["region = "])
    assert "DuckDB could not run" in str(err.value) and "--where" in str(err.value)


def test_metricflow_filter_errors_carry_no_python_traceback(spec: Any, con: Any) -> None:
    with pytest.raises(SemanticQueryError) as err:
        _q(spec, con, metrics=["revenue"], where=["{{ Dimension('nope') }} = 1"])
    text = str(err.value)
    assert "Error parsing where filter" in text and "{{ Dimension('nope') }} = 1" in text
    assert "Traceback" not in text and 'File "' not in text
