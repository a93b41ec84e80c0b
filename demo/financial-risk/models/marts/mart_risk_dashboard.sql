-- One row per portfolio: value, P&L, volatility, concentration, a 1-day parametric
-- value at risk, and counterparty credit risk.
--   value_at_risk_95 = total_value * avg_volatility / sqrt(252) * 1.645
--   risk_level: high if over 10% of the value sits with counterparties over their limit
--               or one position exceeds 20%; medium if any exposure is over a limit or
--               over half sits with sub-investment-grade (BB and below) names; else low.
-- _source_loaded_at is the newest input row; _loaded_at is when this mart was built
-- (retention_cleanup deletes on it).
with portfolios as (
    select * from {{ ref('int_portfolio_risk') }}
),

credit as (
    select
        portfolio_id,
        cast(count(*) as bigint) as counterparty_count,
        cast(count(*) filter (where is_limit_breached) as bigint) as breached_counterparty_count,
        cast(sum(portfolio_exposure) filter (where is_limit_breached) as double)
            as breached_exposure,
        cast(sum(portfolio_exposure) filter (where credit_rating in ('BB', 'B', 'CCC')) as double)
            as sub_investment_grade_exposure,
        cast(max(utilization_pct) as double) as max_counterparty_utilization_pct,
        max(_loaded_at) as _loaded_at
    from {{ ref('int_counterparty_exposure') }}
    group by portfolio_id
),

combined as (
    select
        portfolios.portfolio_id,
        portfolios.valuation_date,
        portfolios.position_count,
        portfolios.total_value,
        portfolios.unrealized_pnl,
        portfolios.avg_volatility,
        portfolios.max_position_pct,
        cast(portfolios.total_value * portfolios.avg_volatility / sqrt(252) * 1.645 as double)
            as value_at_risk_95,
        cast(coalesce(credit.counterparty_count, 0) as bigint) as counterparty_count,
        cast(coalesce(credit.breached_counterparty_count, 0) as bigint)
            as breached_counterparty_count,
        cast(round(100.0 * coalesce(credit.breached_exposure, 0)
                   / nullif(portfolios.total_value, 0), 2) as double) as breached_exposure_pct,
        cast(round(100.0 * coalesce(credit.sub_investment_grade_exposure, 0)
                   / nullif(portfolios.total_value, 0), 2) as double)
            as sub_investment_grade_pct,
        credit.max_counterparty_utilization_pct,
        greatest(portfolios._loaded_at, credit._loaded_at) as _source_loaded_at
    from portfolios
    left join credit on portfolios.portfolio_id = credit.portfolio_id
)

select
    *,
    case
        when breached_exposure_pct > 10 or max_position_pct > 20 then 'high'
        when breached_exposure_pct > 0 or sub_investment_grade_pct > 50 then 'medium'
        else 'low'
    end as risk_level,
    {{ utc_now() }} as _loaded_at
from combined
