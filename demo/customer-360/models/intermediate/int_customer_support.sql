-- Support load per customer.
select
    customer_id,
    cast(count(*) as bigint) as ticket_count,
    cast(count(*) filter (where is_open) as bigint) as open_tickets,
    cast(avg(resolution_hours) as double) as avg_resolution_hours,
    max(_loaded_at) as _loaded_at
from {{ ref('stg_support_tickets') }}
group by customer_id
