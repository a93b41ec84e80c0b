-- Flags readings more than 3 standard deviations from their sensor's baseline.
-- The baseline is leave-one-out: the mean and sample standard deviation of the
-- sensor's *other* readings, derived from int_sensor_metrics' count, sum and sum of
-- squares. A spike therefore cannot hide by inflating its own baseline, which matters
-- when a sensor has only a handful of readings. Sensors need 3+ readings to be judged.
with readings as (
    select * from {{ ref('stg_readings') }}
),

metrics as (
    select * from {{ ref('int_sensor_metrics') }}
),

baselines as (
    select
        readings.reading_id,
        readings.sensor_id,
        metrics.equipment_id,
        metrics.sensor_type,
        readings.reading_ts,
        readings.value,
        metrics.reading_count - 1 as others,
        (metrics.sum_value - readings.value) / nullif(metrics.reading_count - 1, 0) as baseline_mean,
        readings._loaded_at,
        metrics.sum_squares - readings.value * readings.value as others_sum_squares
    from readings
    inner join metrics on readings.sensor_id = metrics.sensor_id
),

spread as (
    select
        *,
        case
            when others >= 2 then sqrt(greatest(
                (others_sum_squares - others * baseline_mean * baseline_mean) / (others - 1), 0))
        end as baseline_stddev
    from baselines
),

scored as (
    select
        *,
        abs(value - baseline_mean) / nullif(baseline_stddev, 0) as deviation_factor
    from spread
)

select
    reading_id,
    sensor_id,
    equipment_id,
    sensor_type,
    reading_ts,
    value,
    cast(baseline_mean as double) as baseline_mean,
    cast(baseline_stddev as double) as baseline_stddev,
    cast(deviation_factor as double) as deviation_factor,
    coalesce(deviation_factor > 3, false) as is_anomaly,
    _loaded_at
from scored
