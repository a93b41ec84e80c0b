-- Support tickets with normalised category/priority and the time to resolve them.
with source as (
    select * from {{ ref('raw_support_tickets') }}
),

normalised as (
    select
        cast(ticket_id as bigint) as ticket_id,
        cast(customer_id as bigint) as customer_id,
        lower(trim(category)) as category_code,
        lower(trim(priority)) as priority_code,
        cast(created_at as timestamp) as created_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(_loaded_at as timestamp) as _loaded_at
    from source
)

select
    ticket_id,
    customer_id,
    case
        when category_code in ('billing', 'technical', 'account', 'shipping') then category_code
        else 'other'
    end as category,
    case
        when priority_code in ('low', 'medium', 'high', 'critical') then priority_code
        when priority_code = 'urgent' then 'critical'
        else 'unknown'
    end as priority,
    created_at,
    resolved_at,
    resolved_at is null as is_open,
    case
        when resolved_at is not null
            then cast(date_diff('second', created_at, resolved_at) / 3600.0 as double)
    end as resolution_hours,
    _loaded_at
from normalised
