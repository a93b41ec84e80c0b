-- Sensor registry with one sensor_type vocabulary.
select
    trim(sensor_id) as sensor_id,
    trim(equipment_id) as equipment_id,
    lower(trim(sensor_type)) as sensor_type,
    lower(trim(unit)) as unit,
    lower(trim(location)) as location,
    cast(installed_at as timestamp) as installed_at,
    cast(_loaded_at as timestamp) as _loaded_at
from {{ ref('raw_sensors') }}
where sensor_id is not null
