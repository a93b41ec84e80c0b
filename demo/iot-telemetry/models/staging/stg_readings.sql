-- Sensor readings within the physically plausible range [-1000, 10000]; this drops the
-- -9999 "no signal" sentinel. Incremental on reading_id: each run picks up the latest
-- load batch again (>=), and the delete+insert on the unique key keeps re-runs from
-- duplicating rows. A reading_id loaded more than once keeps its latest version, also
-- on a full rebuild.
{{ config(
    materialized=incremental_materialization(),
    unique_key='reading_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns'
) }}

with source as (
    select * from {{ ref('raw_readings') }}
    {% if is_incremental() %}
    where _loaded_at >= (select coalesce(max(_loaded_at), timestamp '1970-01-01') from {{ this }})
    {% endif %}
    qualify row_number() over (partition by reading_id order by _loaded_at desc) = 1
)

select
    cast(reading_id as bigint) as reading_id,
    trim(sensor_id) as sensor_id,
    cast(reading_ts as timestamp) as reading_ts,
    cast(value as double) as value,
    cast(_loaded_at as timestamp) as _loaded_at
from source
where value between -1000 and 10000
