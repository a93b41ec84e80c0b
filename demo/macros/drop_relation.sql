{#-
  dbt-duckdb's drop_relation, minus CASCADE on Iceberg catalogs.

  dbt-duckdb drops with `DROP ... CASCADE`, which DuckDB-Iceberg rejects
  ("DROP TABLE <table_name> CASCADE is not supported for Iceberg tables"), so
  `dbt seed --full-refresh` (and `dbt build --full-refresh`) failed against an
  attached Iceberg catalog. Iceberg has no views to cascade to, so a plain DROP is
  equivalent there; every other database keeps the adapter's behaviour.
-#}
{% macro duckdb__drop_relation(relation) -%}
  {%- if is_iceberg_database(relation.database) -%}
    {% call statement('drop_relation', auto_begin=False) -%}
      drop {{ relation.type }} if exists {{ relation }}
    {%- endcall %}
  {%- else -%}
    {{ dbt.duckdb__drop_relation(relation) }}
  {%- endif -%}
{%- endmacro %}


{#- True if `database` is an attached Iceberg catalog (DuckDB's duckdb_databases().type). -#}
{% macro is_iceberg_database(database) -%}
  {%- if not execute or database is none -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set result = run_query(
        "select type from duckdb_databases() where database_name = '"
        ~ (database | replace("'", "''")) ~ "'") -%}
  {{ return(result.rows | length > 0 and (result.rows[0][0] | lower) == 'iceberg') }}
{%- endmacro %}
