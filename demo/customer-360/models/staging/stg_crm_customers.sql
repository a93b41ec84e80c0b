-- CRM customers, cleaned: trimmed names, lower-case e-mails, one segment vocabulary.
with source as (
    select * from {{ ref('raw_customers') }}
),

normalised as (
    select
        cast(customer_id as bigint) as customer_id,
        trim(name) as customer_name,
        lower(trim(email)) as email,
        cast(signup_date as date) as signup_date,
        replace(replace(lower(trim(coalesce(segment, ''))), '-', '_'), ' ', '_') as segment_code,
        cast(_loaded_at as timestamp) as _loaded_at
    from source
    where customer_id is not null
)

select
    customer_id,
    customer_name,
    email,
    signup_date,
    case
        when segment_code in ('enterprise', 'mid_market', 'smb', 'startup') then segment_code
        else 'unknown'
    end as segment,
    _loaded_at
from normalised
