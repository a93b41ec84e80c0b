-- Order history per customer, from completed transactions only.
select
    customer_id,
    cast(count(*) as bigint) as total_orders,
    cast(sum(amount) as decimal(18, 2)) as total_spend,
    cast(avg(amount) as decimal(18, 2)) as avg_order_value,
    min(txn_date) as first_order_date,
    max(txn_date) as last_order_date,
    max(_loaded_at) as _loaded_at
from {{ ref('stg_transactions') }}
where status = 'completed'
group by customer_id
