-- Website events from the ingested raw_web_events table, with a normalised event type and the device
-- the event came from. Not read by the mart: its figures stay those of the seeds.
with source as (
    select * from {{ source('customer_360_raw', 'raw_web_events') }}
)

select
    cast(event_id as bigint) as event_id,
    cast(customer_id as bigint) as customer_id,
    case
        when lower(trim(event_type)) in ('page_view', 'search', 'add_to_cart', 'checkout')
            then lower(trim(event_type))
        else 'other'
    end as event_type,
    page,
    cast(timezone('UTC', cast(occurred_at as timestamptz)) as timestamp) as occurred_at,
    json_extract_string(cast(device as varchar), '$.type') as device_type,
    json_extract_string(cast(device as varchar), '$.os') as device_os
from source
