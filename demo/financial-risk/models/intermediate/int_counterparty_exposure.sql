-- Exposure per (counterparty, portfolio), with the counterparty's total exposure across
-- all portfolios compared with its limit. The portfolio grain lets the risk dashboard
-- see which portfolios trade with counterparties that are over their limit.
with positions as (
    select * from {{ ref('stg_positions') }}
),

latest_prices as (
    select
        instrument_id,
        arg_max(close_price, price_date) as latest_price,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_market_data') }}
    group by instrument_id
),

counterparties as (
    select * from {{ ref('stg_counterparties') }}
),

by_portfolio as (
    select
        positions.counterparty_id,
        positions.portfolio_id,
        cast(count(*) as bigint) as position_count,
        cast(sum(positions.quantity * latest_prices.latest_price) as double) as portfolio_exposure,
        max(greatest(positions._loaded_at, latest_prices._loaded_at)) as _loaded_at
    from positions
    inner join latest_prices on positions.instrument_id = latest_prices.instrument_id
    group by positions.counterparty_id, positions.portfolio_id
),

with_totals as (
    select
        *,
        sum(portfolio_exposure) over (partition by counterparty_id) as total_exposure
    from by_portfolio
)

select
    with_totals.counterparty_id || '|' || with_totals.portfolio_id as exposure_id,
    with_totals.counterparty_id,
    with_totals.portfolio_id,
    counterparties.counterparty_name,
    counterparties.credit_rating,
    with_totals.position_count,
    with_totals.portfolio_exposure,
    cast(with_totals.total_exposure as double) as total_exposure,
    cast(counterparties.exposure_limit as double) as exposure_limit,
    cast(round(100.0 * with_totals.total_exposure
               / nullif(counterparties.exposure_limit, 0), 2) as double) as utilization_pct,
    with_totals.total_exposure > counterparties.exposure_limit as is_limit_breached,
    greatest(with_totals._loaded_at, counterparties._loaded_at) as _loaded_at
from with_totals
inner join counterparties on with_totals.counterparty_id = counterparties.counterparty_id
