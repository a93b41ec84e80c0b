{#-
  Delete rows older than the retention window from a mart.

  Used as a post-hook on every mart: `{{ retention_cleanup(this) }}`.
  Rows whose `_loaded_at` is older than `var('floe_retention_days', 1)` days
  (fractions allowed, e.g. 0.5) are deleted. Relations without a `_loaded_at`
  column are left alone (the hook renders to nothing), so the macro is safe on
  any model.

  Args:
    relation: the relation to clean, normally `this`.
-#}
{% macro retention_cleanup(relation) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}

    {%- set raw_days = var('floe_retention_days', 1) -%}
    {%- set days = raw_days | float -%}
    {%- if days <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "floe_retention_days must be a positive number of days, got '" ~ raw_days
            ~ "'. Pass e.g. --vars '{floe_retention_days: 7}'.") }}
    {%- endif -%}

    {%- set column_names = adapter.get_columns_in_relation(relation)
                            | map(attribute='name') | map('lower') | list -%}
    {%- if '_loaded_at' not in column_names -%}
        {{ log("retention_cleanup: " ~ relation ~ " has no _loaded_at column; nothing to delete", info=False) }}
        {{ return('') }}
    {%- endif -%}

    delete from {{ relation }}
    where _loaded_at < {{ utc_now() }} - to_seconds(cast({{ (days * 86400) | round | int }} as bigint))
{%- endmacro %}
