-- Reading statistics per sensor (every registered sensor, with or without readings).
-- sum_value and sum_squares let int_anomaly_detection compute leave-one-out baselines.
with sensors as (
    select * from {{ ref('stg_sensors') }}
),

readings as (
    select * from {{ ref('stg_readings') }}
)

select
    sensors.sensor_id,
    sensors.equipment_id,
    sensors.sensor_type,
    cast(count(readings.reading_id) as bigint) as reading_count,
    cast(avg(readings.value) as double) as avg_value,
    cast(min(readings.value) as double) as min_value,
    cast(max(readings.value) as double) as max_value,
    cast(stddev_samp(readings.value) as double) as stddev_value,
    cast(coalesce(sum(readings.value), 0) as double) as sum_value,
    cast(coalesce(sum(readings.value * readings.value), 0) as double) as sum_squares,
    min(readings.reading_ts) as first_reading_at,
    max(readings.reading_ts) as last_reading_at,
    greatest(max(sensors._loaded_at), max(readings._loaded_at)) as _loaded_at
from sensors
left join readings on sensors.sensor_id = readings.sensor_id
group by sensors.sensor_id, sensors.equipment_id, sensors.sensor_type
