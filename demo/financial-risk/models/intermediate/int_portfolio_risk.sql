-- Risk figures per portfolio: positions valued at each instrument's latest close,
-- instrument volatility (annualised standard deviation of daily returns) and
-- concentration (largest single position as a share of the portfolio).
with positions as (
    select * from {{ ref('stg_positions') }}
),

instruments as (
    select
        instrument_id,
        arg_max(close_price, price_date) as latest_price,
        max(price_date) as latest_price_date,
        stddev_samp(daily_return) * sqrt(252) as annualised_volatility,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_market_data') }}
    group by instrument_id
),

valued as (
    select
        positions.portfolio_id,
        positions.position_id,
        cast(positions.quantity * instruments.latest_price as double) as market_value,
        cast(positions.quantity * (instruments.latest_price - positions.entry_price) as double)
            as unrealized_pnl,
        instruments.annualised_volatility,
        instruments.latest_price_date,
        greatest(positions._loaded_at, instruments._loaded_at) as _loaded_at
    from positions
    inner join instruments on positions.instrument_id = instruments.instrument_id
)

select
    portfolio_id,
    cast(count(*) as bigint) as position_count,
    cast(sum(market_value) as double) as total_value,
    cast(sum(unrealized_pnl) as double) as unrealized_pnl,
    cast(avg(annualised_volatility) as double) as avg_volatility,
    cast(max(market_value) as double) as max_position_value,
    cast(round(100.0 * max(market_value) / nullif(sum(market_value), 0), 2) as double)
        as max_position_pct,
    max(latest_price_date) as valuation_date,
    max(_loaded_at) as _loaded_at
from valued
group by portfolio_id
