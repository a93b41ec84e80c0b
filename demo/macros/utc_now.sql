{#-
  Current time as a naive UTC TIMESTAMP.

  Iceberg keeps `timestamp` and `timestamptz` apart; all demo `_loaded_at`
  columns are naive UTC timestamps, so the comparison in retention_cleanup and
  the build time written by each mart use the same type and clock.
-#}
{% macro utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}
