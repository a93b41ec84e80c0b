{#-
  Use a custom schema name verbatim.

  dbt's default turns `+schema: customer_360` into `<target_schema>_customer_360`
  (e.g. `main_customer_360`). floe wants stable names that match across DuckDB and
  an attached Iceberg catalog, so seeds land in `<slug>_raw` and models in `<slug>`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
