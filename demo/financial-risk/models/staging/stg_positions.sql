-- Open positions with a positive quantity (zero/negative quantities are booking errors).
select
    trim(position_id) as position_id,
    trim(portfolio_id) as portfolio_id,
    upper(trim(instrument_id)) as instrument_id,
    trim(counterparty_id) as counterparty_id,
    cast(quantity as bigint) as quantity,
    cast(entry_price as decimal(18, 4)) as entry_price,
    cast(trade_date as date) as trade_date,
    cast(_loaded_at as timestamp) as _loaded_at
from {{ ref('raw_positions') }}
where quantity > 0
