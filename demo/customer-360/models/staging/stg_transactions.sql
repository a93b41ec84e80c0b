-- Transactions with a positive amount and a known status vocabulary.
-- Incremental on txn_id: each run picks up the latest load batch again (>=), and the
-- delete+insert on the unique key keeps re-runs from duplicating rows. A txn_id loaded
-- more than once (a correction) keeps its latest version, also on a full rebuild.
{{ config(
    materialized=incremental_materialization(),
    unique_key='txn_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns'
) }}

with source as (
    select * from {{ ref('raw_transactions') }}
    {% if is_incremental() %}
    where _loaded_at >= (select coalesce(max(_loaded_at), timestamp '1970-01-01') from {{ this }})
    {% endif %}
    qualify row_number() over (partition by txn_id order by _loaded_at desc) = 1
)

select
    cast(txn_id as bigint) as txn_id,
    cast(customer_id as bigint) as customer_id,
    cast(amount as decimal(10, 2)) as amount,
    trim(product_id) as product_id,
    cast(txn_date as date) as txn_date,
    case
        when lower(trim(status)) in ('completed', 'pending', 'refunded', 'cancelled')
            then lower(trim(status))
        else 'unknown'
    end as status,
    cast(_loaded_at as timestamp) as _loaded_at
from source
where amount > 0
