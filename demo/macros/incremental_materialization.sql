{#-
  Materialization for the demo's incremental models.

  Locally (floe_materialized = 'table') they are stock dbt `incremental` models
  with a unique_key. Against an attached Iceberg catalog
  (floe_materialized = 'iceberg_table') stock incremental cannot do
  `--full-refresh` (it renames tables inside a transaction), so they use
  `iceberg_table`, which upserts on the same unique_key.
-#}
{% macro incremental_materialization() -%}
    {%- if var('floe_materialized', 'table') == 'iceberg_table' -%}
        {{ return('iceberg_table') }}
    {%- else -%}
        {{ return('incremental') }}
    {%- endif -%}
{%- endmacro %}
