"""The marts' numbers recomputed from the raw seed CSVs, shared by the integration (embedded) and e2e
(platform) lanes.

Each case is DuckDB SQL written from the business meaning in the products' schema.yml, not from the
dbt models: it reads the seed files with read_csv_auto (one view per file, named after it) and applies
the same documented cleaning (latest load of a re-loaded record, invalid values dropped, codes
normalised), then computes per-key figures that ``check`` compares with the Iceberg mart: counts,
integer sums, dates and labels exactly; floats to a relative 1e-9 (1e-6 absolute near zero); figures
the mart rounds to two decimals to half a hundredth. Nothing here depends on the seeds' scale.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import DEMO


@dataclass(frozen=True)
class MathCase:
    product: str
    name: str
    mart: str  # <namespace>.<table> in the product's catalog
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # compared; the SQL selects keys then these, by these names
    sql: str
    rounded: frozenset[str] = frozenset()  # columns the mart rounds to 2 decimals

    @property
    def id(self) -> str:
        return f"{self.product}:{self.name}"


# Per product: views over the raw views that several of its cases start from.
BASE_VIEWS = {
    "customer-360": """
        create view customers as
        select customer_id, signup_date from raw_customers where customer_id is not null;

        -- a transaction loaded more than once counts in its latest version; non-positive amounts
        -- are upstream errors
        create view completed_orders as
        select * from (
            select * from raw_transactions
            qualify row_number() over (partition by txn_id order by _loaded_at desc) = 1
        )
        where amount > 0 and lower(trim(status)) = 'completed';
    """,
    "iot-telemetry": """
        create view sensors as
        select trim(sensor_id) as sensor_id, trim(equipment_id) as equipment_id
        from raw_sensors where sensor_id is not null;

        -- a reading loaded more than once counts in its latest version; values outside
        -- [-1000, 10000] (the -9999 no-signal sentinel) are not measurements; readings of
        -- unregistered sensors belong to no equipment
        create view valid_readings as
        select r.reading_id, s.sensor_id, s.equipment_id, r.reading_ts, r.value
        from (
            select * from raw_readings
            qualify row_number() over (partition by reading_id order by _loaded_at desc) = 1
        ) r
        join sensors s on trim(r.sensor_id) = s.sensor_id
        where r.value between -1000 and 10000;
    """,
    "financial-risk": """
        -- a close loaded more than once counts in its latest version; a non-positive close is no price
        create view latest_close as
        select instrument_id, price_date, close_price from (
            select * from (
                select upper(trim(instrument_id)) as instrument_id, price_date, close_price, _loaded_at
                from raw_market_data
            )
            qualify row_number() over (partition by instrument_id, price_date order by _loaded_at desc) = 1
        )
        where close_price > 0
        qualify row_number() over (partition by instrument_id order by price_date desc) = 1;

        -- positions with a positive quantity (others are booking errors), at the latest close
        create view valued_positions as
        select trim(p.portfolio_id) as portfolio_id, trim(p.counterparty_id) as counterparty_id,
               upper(trim(p.instrument_id)) as instrument_id, p.quantity, p.entry_price,
               p.quantity * c.close_price as market_value, c.close_price, c.price_date
        from raw_positions p
        join latest_close c on upper(trim(p.instrument_id)) = c.instrument_id
        where p.quantity > 0;

        create view counterparty_usage as
        select trim(c.counterparty_id) as counterparty_id, upper(trim(c.credit_rating)) as rating,
               100 * sum(v.market_value) / c.exposure_limit as utilization_pct
        from raw_counterparties c
        join valued_positions v on v.counterparty_id = trim(c.counterparty_id)
        group by c.counterparty_id, c.credit_rating, c.exposure_limit;
    """,
}

_C360 = "customer_360.mart_customer_360"
_IOT = "iot_telemetry.mart_equipment_health"
_FIN = "financial_risk.mart_risk_dashboard"

CASES: dict[str, list[MathCase]] = {
    # Compared: every figure of mart_customer_360 (the columns of the two cases). Not compared:
    # customer_name, email, segment, signup_date (CRM profile copied through, no figure to compute) and
    # _source_loaded_at, _loaded_at (load bookkeeping and build time, not business figures).
    "customer-360": [
        MathCase(
            "customer-360", "completed_orders", _C360, ("customer_id",),
            ("total_orders", "total_spend", "avg_order_value", "first_order_date", "last_order_date",
             "customer_lifetime_days"),
            """
            select c.customer_id,
                   count(o.txn_id) as total_orders,
                   coalesce(sum(o.amount), 0) as total_spend,
                   avg(o.amount) as avg_order_value,
                   min(o.txn_date) as first_order_date,
                   max(o.txn_date) as last_order_date,
                   coalesce(max(o.txn_date), c.signup_date) - c.signup_date as customer_lifetime_days
            from customers c
            left join completed_orders o using (customer_id)
            group by c.customer_id, c.signup_date
            """,
            rounded=frozenset({"avg_order_value"})),
        MathCase(
            "customer-360", "support_tickets", _C360, ("customer_id",),
            ("ticket_count", "open_tickets", "avg_resolution_hours"),
            """
            select c.customer_id,
                   count(t.ticket_id) as ticket_count,
                   count(t.ticket_id) filter (where t.resolved_at is null) as open_tickets,
                   avg(epoch(t.resolved_at) - epoch(t.created_at)) / 3600 as avg_resolution_hours
            from customers c
            left join raw_support_tickets t using (customer_id)
            group by c.customer_id
            """),
    ],
    # Compared: every column of mart_equipment_health but _source_loaded_at and _loaded_at (load
    # bookkeeping and build time, not business figures).
    "iot-telemetry": [
        MathCase(
            "iot-telemetry", "sensor_readings", _IOT, ("equipment_id",),
            ("sensor_count", "reading_count", "last_reading_at"),
            """
            select s.equipment_id,
                   count(distinct s.sensor_id) as sensor_count,
                   count(r.reading_id) as reading_count,
                   max(r.reading_ts) as last_reading_at
            from sensors s
            left join valid_readings r using (sensor_id)
            group by s.equipment_id
            """),
        # An anomaly lies more than 3 sample standard deviations from the mean of the same sensor's
        # *other* valid readings (so it needs 2+ others with some spread); health = 100 - anomaly %.
        MathCase(
            "iot-telemetry", "anomalies_and_health", _IOT, ("equipment_id",),
            ("anomaly_count", "anomaly_pct", "health_score", "health_status"),
            """
            with scored as (
                select equipment_id, value,
                       avg(value) over others as others_mean,
                       stddev_samp(value) over others as others_stddev
                from valid_readings
                window others as (partition by sensor_id order by reading_id
                                  rows between unbounded preceding and unbounded following
                                  exclude current row)
            ),
            per_equipment as (
                select e.equipment_id, count(s.value) as readings,
                       count(*) filter (where s.others_stddev > 0
                                        and abs(s.value - s.others_mean) > 3 * s.others_stddev) as anomalies
                from (select distinct equipment_id from sensors) e
                left join scored s using (equipment_id)
                group by e.equipment_id
            ),
            pct as (
                select *, 100.0 * anomalies / nullif(readings, 0) as anomaly_pct from per_equipment
            )
            select equipment_id, anomalies as anomaly_count, anomaly_pct, 100 - anomaly_pct as health_score,
                   case when anomaly_pct is null then 'no_data'
                        when anomaly_pct <= 5 then 'healthy'
                        when anomaly_pct <= 15 then 'degraded'
                        else 'critical' end as health_status
            from pct
            """,
            rounded=frozenset({"anomaly_pct", "health_score"})),
        # Days since maintenance count calendar days up to the newest valid reading in the data.
        MathCase(
            "iot-telemetry", "maintenance_recency", _IOT, ("equipment_id",),
            ("maintenance_count", "last_maintenance_at", "last_maintenance_type", "days_since_maintenance"),
            """
            with jobs as (
                select trim(equipment_id) as equipment_id, performed_at,
                       case when lower(trim(maintenance_type)) in
                                 ('preventive', 'corrective', 'predictive', 'emergency')
                            then lower(trim(maintenance_type)) else 'unknown' end as maintenance_type,
                       count(*) over (partition by trim(equipment_id)) as jobs_done,
                       row_number() over (partition by trim(equipment_id) order by performed_at desc) as recency
                from raw_maintenance_log
                where maintenance_id is not null
            )
            select e.equipment_id,
                   coalesce(j.jobs_done, 0) as maintenance_count,
                   j.performed_at as last_maintenance_at,
                   j.maintenance_type as last_maintenance_type,
                   (select max(reading_ts) from valid_readings)::date - j.performed_at::date
                       as days_since_maintenance
            from (select distinct equipment_id from sensors) e
            left join jobs j on j.equipment_id = e.equipment_id and j.recency = 1
            """),
    ],
    # Compared: every column of mart_risk_dashboard but _source_loaded_at and _loaded_at (load
    # bookkeeping and build time, not business figures).
    "financial-risk": [
        MathCase(
            "financial-risk", "valuation", _FIN, ("portfolio_id",),
            ("position_count", "total_value", "unrealized_pnl", "max_position_pct", "valuation_date"),
            """
            select portfolio_id,
                   count(*) as position_count,
                   sum(market_value) as total_value,
                   sum(quantity * (close_price - entry_price)) as unrealized_pnl,
                   100 * max(market_value) / sum(market_value) as max_position_pct,
                   max(price_date) as valuation_date
            from valued_positions
            group by portfolio_id
            """,
            rounded=frozenset({"max_position_pct"})),
        # Volatility of an instrument: sample stddev of its close-to-close returns, annualised by
        # sqrt(252); a portfolio's is the mean over its positions (an instrument held twice counts
        # twice, as int_portfolio_risk documents "of the positions' instruments").
        # VaR 95 (1 day) = value * volatility / sqrt(252) * 1.645.
        MathCase(
            "financial-risk", "volatility_and_var", _FIN, ("portfolio_id",),
            ("avg_volatility", "value_at_risk_95"),
            """
            with closes as (
                select * from (
                    select upper(trim(instrument_id)) as instrument_id, price_date, close_price, _loaded_at
                    from raw_market_data
                )
                qualify row_number() over (partition by instrument_id, price_date order by _loaded_at desc) = 1
            ),
            returns as (
                select instrument_id,
                       close_price / lag(close_price) over (partition by instrument_id order by price_date) - 1
                           as daily_return
                from closes
                where close_price > 0
            ),
            volatility as (
                select instrument_id, stddev_samp(daily_return) * sqrt(252) as annual
                from returns group by instrument_id
            )
            select v.portfolio_id,
                   avg(vol.annual) as avg_volatility,
                   sum(v.market_value) * avg(vol.annual) / sqrt(252) * 1.645 as value_at_risk_95
            from valued_positions v
            join volatility vol using (instrument_id)
            group by v.portfolio_id
            """),
        # A counterparty is over its limit when its exposure across all portfolios exceeds it;
        # sub-investment grade is BB and below.
        MathCase(
            "financial-risk", "counterparty_credit", _FIN, ("portfolio_id",),
            ("counterparty_count", "breached_counterparty_count", "breached_exposure_pct",
             "sub_investment_grade_pct", "max_counterparty_utilization_pct", "risk_level"),
            """
            with shares as (
                select v.portfolio_id,
                       count(distinct u.counterparty_id) as counterparty_count,
                       count(distinct u.counterparty_id) filter (where u.utilization_pct > 100)
                           as breached_counterparty_count,
                       100 * coalesce(sum(v.market_value) filter (where u.utilization_pct > 100), 0)
                           / sum(v.market_value) as breached_exposure_pct,
                       100 * coalesce(sum(v.market_value) filter (where u.rating in ('BB', 'B', 'CCC')), 0)
                           / sum(v.market_value) as sub_investment_grade_pct,
                       max(u.utilization_pct) as max_counterparty_utilization_pct,
                       100 * max(v.market_value) / sum(v.market_value) as largest_position_pct
                from valued_positions v
                left join counterparty_usage u using (counterparty_id)
                group by v.portfolio_id
            )
            select * exclude (largest_position_pct),
                   case when breached_exposure_pct > 10 or largest_position_pct > 20 then 'high'
                        when breached_exposure_pct > 0 or sub_investment_grade_pct > 50 then 'medium'
                        else 'low' end as risk_level
            from shares
            """,
            rounded=frozenset({"breached_exposure_pct", "sub_investment_grade_pct",
                               "max_counterparty_utilization_pct"})),
    ],
}

ALL_CASES = [case for cases in CASES.values() for case in cases]

# |x - round(x, 2)| <= 0.005, plus room for binary floating point.
HALF_HUNDREDTH = 0.005 + 1e-9


def expected_rows(case: MathCase, seeds: Path | None = None) -> dict[tuple[Any, ...], dict[str, Any]]:
    """``case.sql`` over the seed CSVs in ``seeds`` (default: the product's committed seeds); key -> row."""
    import duckdb

    seeds = seeds or DEMO / case.product / "seeds"
    con = duckdb.connect(":memory:")
    try:
        for csv in sorted(seeds.glob("*.csv")):
            path = str(csv).replace("'", "''")
            con.execute(f"create view {csv.stem} as select * from read_csv_auto('{path}')")
        con.execute(BASE_VIEWS[case.product])
        result = con.execute(case.sql)
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()
    return {tuple(row[k] for k in case.keys): row for row in rows}


def _same(expected: Any, actual: Any, tolerance: float) -> bool:
    if isinstance(expected, decimal.Decimal):
        expected = float(expected)
    if isinstance(actual, decimal.Decimal):
        actual = float(actual)
    if isinstance(expected, float) or isinstance(actual, float):
        return (isinstance(expected, int | float) and isinstance(actual, int | float)
                and math.isclose(expected, actual, rel_tol=1e-9, abs_tol=tolerance))
    return bool(expected == actual)


def check(case: MathCase, mart: Any, seeds: Path | None = None) -> list[str]:
    """Compare the mart's rows (a pyarrow Table) with the recomputation from the seeds, key by key.

    Returns one line per problem: a key missing from either side, a key repeated in the mart, a
    compared column absent from the mart, or a value that differs (key, column, expected, actual).
    """
    seeds = seeds or DEMO / case.product / "seeds"
    expected = expected_rows(case, seeds)
    if not expected:
        return [f"{case.id}: the seeds in {seeds} give no rows to compare"]
    missing_cols = [c for c in (*case.keys, *case.columns) if c not in mart.column_names]
    if missing_cols:
        return [f"{case.id}: {case.mart} has no column {c!r}" for c in missing_cols]

    def where(key: tuple[Any, ...]) -> str:
        return f"{case.id} " + ", ".join(f"{k}={v!r}" for k, v in zip(case.keys, key, strict=True))

    actual: dict[tuple[Any, ...], dict[str, Any]] = {}
    problems = []
    for row in mart.select([*case.keys, *case.columns]).to_pylist():
        key = tuple(row[k] for k in case.keys)
        if key in actual:
            problems.append(f"{where(key)}: more than one row in {case.mart}")
        actual[key] = row
    problems += [f"{where(key)}: expected from the seeds, not in {case.mart}" for key in expected if key not in actual]
    problems += [f"{where(key)}: in {case.mart}, not expected from the seeds" for key in actual if key not in expected]
    for key, want in expected.items():
        got = actual.get(key)
        if got is None:
            continue
        for col in case.columns:
            tolerance = HALF_HUNDREDTH if col in case.rounded else 1e-6
            if not _same(want[col], got[col], tolerance):
                problems.append(f"{where(key)}: {col} expected {want[col]!r}, got {got[col]!r}")
    return problems


def check_run(case: MathCase, ctx: Any) -> list[str]:
    """``check`` for a run: the mart it wrote, read from its catalog as its principal, against the seeds it
    loaded (``ctx`` is the run's RunContext)."""
    from floe.runtime.iceberg import load_catalog

    mart = load_catalog(ctx).load_table(case.mart).scan().to_arrow()
    return check(case, mart, ctx.project_dir / "seeds")
