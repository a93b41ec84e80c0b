"""The semantic layer's acceptance cases, shared by the integration (embedded) and e2e (platform) lanes:
for each product, metric queries and the hand-written SQL over the Iceberg tables that must agree."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest


def norm(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Both sides as JSON would carry them: Decimal -> float, dates -> ISO day, floats compared approximately."""

    def one(v: Any) -> Any:
        if isinstance(v, decimal.Decimal):
            v = float(v)
        if isinstance(v, dt.date):
            return v.isoformat()[:10]
        if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == "T":
            return v[:10]
        if isinstance(v, float):
            return pytest.approx(v, rel=1e-9, abs=1e-9)
        return v

    return [tuple(one(v) for v in row) for row in rows]


# Two metrics (and more) per product; the right-hand side is plain SQL over the Iceberg tables.
CASES = {
    "customer-360": [
        (["--metric", "customer_count,lifetime_value,avg_lifetime_value", "-g", "segment"],
         """select segment, count(distinct customer_id), sum(total_spend),
                   sum(total_spend) / count(distinct customer_id)
            from customer_360.mart_customer_360 group by segment order by segment""",
         ["mart_customer_360"]),
        (["--metric", "transaction_amount,transaction_count", "-g", "segment", "--where", "status = 'completed'"],
         """select c.segment, sum(t.amount), count(*)
            from customer_360.stg_transactions t
            left join customer_360.mart_customer_360 c on t.customer_id = c.customer_id
            where t.status = 'completed' group by c.segment order by c.segment nulls last""",
         ["stg_transactions", "mart_customer_360"]),
    ],
    "iot-telemetry": [
        (["--metric", "equipment_count,reading_count,anomaly_rate_pct", "-g", "health_status"],
         """select health_status, count(distinct equipment_id), sum(reading_count),
                   100.0 * sum(anomaly_count) / sum(reading_count)
            from iot_telemetry.mart_equipment_health group by health_status order by health_status""",
         ["mart_equipment_health"]),
        (["--metric", "maintenance_hours,maintenance_job_count", "-g", "health_status", "-g", "maintenance_type"],
         """select e.health_status, m.maintenance_type, sum(m.duration_hours), count(*)
            from iot_telemetry.stg_maintenance m
            left join iot_telemetry.mart_equipment_health e on m.equipment_id = e.equipment_id
            group by 1, 2 order by 1 nulls last, 2""",
         ["stg_maintenance", "mart_equipment_health"]),
    ],
    "financial-risk": [
        (["--metric", "total_value,value_at_risk_95,var_pct_of_value", "-g", "risk_level"],
         """select risk_level, sum(total_value), sum(value_at_risk_95),
                   100 * sum(value_at_risk_95) / sum(total_value)
            from financial_risk.mart_risk_dashboard group by risk_level order by risk_level""",
         ["mart_risk_dashboard"]),
        (["--metric", "portfolio_count,unrealized_pnl,max_position_pct", "-g", "risk_level", "-g", "valuation_date"],
         """select risk_level, valuation_date, count(distinct portfolio_id), sum(unrealized_pnl),
                   max(max_position_pct)
            from financial_risk.mart_risk_dashboard group by 1, 2 order by 1, 2""",
         ["mart_risk_dashboard"]),
    ],
}


def query_body(product: str, args: list[str]) -> dict[str, Any]:
    """The CLI arguments of a case as the semantic service's POST /v1/query body."""
    body: dict[str, Any] = {"product": product, "metrics": [], "group_by": [], "where": []}
    key = {"--metric": "metrics", "-g": "group_by", "--group-by": "group_by", "--where": "where"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        body[key[flag]] += value.split(",") if key[flag] != "where" else [value]
    return body


def hand_written_sql(con: Any, catalog: Any, namespace: str, query: str,
                     tables: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """``query`` on DuckDB connection ``con`` over full copies of ``tables``, read from Iceberg with PyIceberg
    (never through floe's semantic code)."""
    con.execute(f"create schema if not exists {namespace}")
    for table in tables:
        con.register("t", catalog.load_table(f"{namespace}.{table}").scan().to_arrow())
        con.execute(f"create or replace table {namespace}.{table} as select * from t")
        con.unregister("t")
    return [tuple(r) for r in con.execute(query).fetchall()]
