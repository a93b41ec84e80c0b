-- Counterparties with an upper-case credit rating.
select
    trim(counterparty_id) as counterparty_id,
    trim(counterparty_name) as counterparty_name,
    upper(trim(credit_rating)) as credit_rating,
    cast(exposure_limit as decimal(18, 2)) as exposure_limit,
    upper(trim(country)) as country,
    lower(trim(sector)) as sector,
    cast(_loaded_at as timestamp) as _loaded_at
from {{ ref('raw_counterparties') }}
where counterparty_id is not null
