-- Maintenance log with one maintenance_type vocabulary.
select
    trim(maintenance_id) as maintenance_id,
    trim(equipment_id) as equipment_id,
    case
        when lower(trim(maintenance_type)) in ('preventive', 'corrective', 'predictive', 'emergency')
            then lower(trim(maintenance_type))
        else 'unknown'
    end as maintenance_type,
    cast(performed_at as timestamp) as performed_at,
    trim(technician) as technician,
    cast(duration_hours as double) as duration_hours,
    cast(_loaded_at as timestamp) as _loaded_at
from {{ ref('raw_maintenance_log') }}
where maintenance_id is not null
