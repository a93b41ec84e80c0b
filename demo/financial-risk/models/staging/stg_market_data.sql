-- Daily closing prices with the previous close and the daily return per instrument.
-- The return is computed over the full raw history before the incremental filter, so
-- the first new day of a batch still sees its previous close. Incremental on price_id
-- (instrument + date): re-runs upsert the latest load batch without duplicating rows.
-- A price loaded more than once (a correction) keeps its latest version.
{{ config(
    materialized=incremental_materialization(),
    unique_key='price_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns'
) }}

with prices as (
    select
        upper(trim(instrument_id)) as instrument_id,
        cast(price_date as date) as price_date,
        cast(close_price as decimal(18, 4)) as close_price,
        cast(volume as bigint) as volume,
        cast(_loaded_at as timestamp) as _loaded_at
    from {{ ref('raw_market_data') }}
    qualify row_number() over (
        partition by upper(trim(instrument_id)), cast(price_date as date)
        order by _loaded_at desc
    ) = 1
),

with_returns as (
    select
        instrument_id || '|' || strftime(price_date, '%Y-%m-%d') as price_id,
        instrument_id,
        price_date,
        close_price,
        volume,
        lag(close_price) over (partition by instrument_id order by price_date) as prev_close_price,
        _loaded_at
    from prices
    where close_price > 0
)

select
    price_id,
    instrument_id,
    price_date,
    close_price,
    volume,
    prev_close_price,
    cast(close_price / prev_close_price - 1 as double) as daily_return,
    _loaded_at
from with_returns
{% if is_incremental() %}
where _loaded_at >= (select coalesce(max(_loaded_at), timestamp '1970-01-01') from {{ this }})
{% endif %}
