-- One row per piece of equipment: sensor coverage, anomaly rate, health score and
-- maintenance recency. "Days since maintenance" is measured at the newest reading in
-- the data, so the result does not depend on when the model runs.
-- _source_loaded_at is the newest input row; _loaded_at is when this mart was built
-- (retention_cleanup deletes on it).
with sensor_metrics as (
    select * from {{ ref('int_sensor_metrics') }}
),

equipment as (
    select
        equipment_id,
        cast(count(*) as bigint) as sensor_count,
        cast(sum(reading_count) as bigint) as reading_count,
        max(last_reading_at) as last_reading_at,
        max(_loaded_at) as _loaded_at
    from sensor_metrics
    group by equipment_id
),

anomalies as (
    select
        equipment_id,
        cast(count(*) filter (where is_anomaly) as bigint) as anomaly_count,
        max(_loaded_at) as _loaded_at
    from {{ ref('int_anomaly_detection') }}
    group by equipment_id
),

maintenance as (
    select
        equipment_id,
        cast(count(*) as bigint) as maintenance_count,
        max(performed_at) as last_maintenance_at,
        arg_max(maintenance_type, performed_at) as last_maintenance_type,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_maintenance') }}
    group by equipment_id
),

as_of as (
    select max(last_reading_at) as as_of_ts from sensor_metrics
),

scored as (
    select
        equipment.equipment_id,
        equipment.sensor_count,
        equipment.reading_count,
        cast(coalesce(anomalies.anomaly_count, 0) as bigint) as anomaly_count,
        cast(round(100.0 * coalesce(anomalies.anomaly_count, 0)
                   / nullif(equipment.reading_count, 0), 2) as double) as anomaly_pct,
        equipment.last_reading_at,
        cast(coalesce(maintenance.maintenance_count, 0) as bigint) as maintenance_count,
        maintenance.last_maintenance_at,
        maintenance.last_maintenance_type,
        cast(date_diff('day', maintenance.last_maintenance_at, as_of.as_of_ts) as bigint)
            as days_since_maintenance,
        greatest(equipment._loaded_at, anomalies._loaded_at, maintenance._loaded_at)
            as _source_loaded_at
    from equipment
    cross join as_of
    left join anomalies on equipment.equipment_id = anomalies.equipment_id
    left join maintenance on equipment.equipment_id = maintenance.equipment_id
)

select
    equipment_id,
    sensor_count,
    reading_count,
    anomaly_count,
    anomaly_pct,
    cast(round(100.0 - anomaly_pct, 2) as double) as health_score,
    case
        when anomaly_pct is null then 'no_data'
        when anomaly_pct <= 5 then 'healthy'
        when anomaly_pct <= 15 then 'degraded'
        else 'critical'
    end as health_status,
    last_reading_at,
    maintenance_count,
    last_maintenance_at,
    last_maintenance_type,
    days_since_maintenance,
    _source_loaded_at,
    {{ utc_now() }} as _loaded_at
from scored
