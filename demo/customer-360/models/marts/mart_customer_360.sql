-- One row per customer: profile, order history and support experience.
-- _source_loaded_at is the newest input row; _loaded_at is when this mart was built
-- (retention_cleanup deletes on it).
with customers as (
    select * from {{ ref('stg_crm_customers') }}
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

support as (
    select * from {{ ref('int_customer_support') }}
)

select
    customers.customer_id,
    customers.customer_name,
    customers.email,
    customers.segment,
    customers.signup_date,
    cast(coalesce(orders.total_orders, 0) as bigint) as total_orders,
    cast(coalesce(orders.total_spend, 0) as decimal(18, 2)) as total_spend,
    orders.avg_order_value,
    orders.first_order_date,
    orders.last_order_date,
    cast(date_diff('day', customers.signup_date,
                   coalesce(orders.last_order_date, customers.signup_date)) as bigint)
        as customer_lifetime_days,
    cast(coalesce(support.ticket_count, 0) as bigint) as ticket_count,
    cast(coalesce(support.open_tickets, 0) as bigint) as open_tickets,
    support.avg_resolution_hours,
    greatest(customers._loaded_at, orders._loaded_at, support._loaded_at) as _source_loaded_at,
    {{ utc_now() }} as _loaded_at
from customers
left join orders on customers.customer_id = orders.customer_id
left join support on customers.customer_id = support.customer_id
