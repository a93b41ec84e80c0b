{#-
  iceberg_table: a table materialization that an attached Apache Iceberg catalog accepts.

  DuckDB-Iceberg has no CREATE OR REPLACE, no views, cannot rename a table in the
  transaction that created it, and cannot re-create a table dropped in the same
  transaction, so dbt's stock `table` (build tmp + rename + drop backup) fails there.
  This materialization instead:

  - first run, or `--full-refresh`: drop (and commit) if present, then
    `CREATE TABLE ... AS <model sql>`;
  - later runs: one transaction with `DELETE` + `INSERT INTO ... BY NAME <model sql>`,
    so readers see either the old or the new snapshot. With a `unique_key` (a column
    or a list of columns) only rows whose key reappears are deleted: an upsert that
    keeps older keys, like an incremental model;
  - columns that the model gained since the table was created are added first with
    `ALTER TABLE ADD COLUMN` (its own commit); other schema changes need `--full-refresh`.

  It works on a plain DuckDB database too, which is how the demo projects test it.
-#}
{% materialization iceberg_table, adapter='duckdb' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing_relation = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier) -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- if unique_key is string -%}
    {%- set unique_key = [unique_key] -%}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {#- Rebuild from scratch: the drop must be committed before the create. -#}
  {%- if existing_relation is not none and (should_full_refresh() or not existing_relation.is_table) %}
    {% call statement('drop_existing') -%}
      drop {{ existing_relation.type }} if exists {{ existing_relation }}
    {%- endcall %}
    {{ adapter.commit() }}
    {%- set existing_relation = none -%}
  {%- endif %}

  {%- if existing_relation is not none %}
    {#- Add columns the model gained; Iceberg supports ADD COLUMN but not in the data commit. -#}
    {%- set existing_columns = adapter.get_columns_in_relation(existing_relation)
                               | map(attribute='name') | map('lower') | list -%}
    {% call statement('describe_model', fetch_result=True) -%}
      describe {{ sql }}
    {%- endcall %}
    {%- set added = [] -%}
    {%- for row in load_result('describe_model').table.rows -%}
      {%- if row[0] | lower not in existing_columns -%}
        {%- do added.append(row) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if added | length > 0 %}
      {% for row in added %}
        {% call statement('add_column_' ~ loop.index) -%}
          alter table {{ target_relation }} add column {{ adapter.quote(row[0]) }} {{ row[1] }}
        {%- endcall %}
      {% endfor %}
      {{ adapter.commit() }}
    {%- endif %}
  {%- endif %}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if existing_relation is none %}
    {% call statement('main') -%}
      create table {{ target_relation }} as (
        {{ sql }}
      )
    {%- endcall %}
  {%- elif unique_key %}
    {% call statement('main') -%}
      delete from {{ target_relation }} as floe_target
      where exists (
        select 1
        from (
          {{ sql }}
        ) as floe_source
        where
        {%- for key in unique_key %}
          floe_source.{{ key }} is not distinct from floe_target.{{ key }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
      );
      insert into {{ target_relation }} by name (
        {{ sql }}
      )
    {%- endcall %}
  {%- else %}
    {% call statement('main') -%}
      delete from {{ target_relation }};
      insert into {{ target_relation }} by name (
        {{ sql }}
      )
    {%- endcall %}
  {%- endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
