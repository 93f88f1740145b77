{% macro var_date(name) -%}
    {#- A date var (min_date / max_date) as a SQL date literal; only YYYY-MM-DD passes. -#}
    {%- set value = var(name) | string -%}
    {%- set digits = value.replace('-', '') -%}
    {%- if value | length != 10 or value[4] != '-' or value[7] != '-' or not digits.isdigit() -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be YYYY-MM-DD, got " ~ value) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{% macro delete_chart_dates(relation) -%}
    {#- Before an incremental run: remove the dates it rebuilds. -#}
    {%- if is_incremental() -%}
        delete from {{ relation }}
        where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}
    {%- endif -%}
{%- endmacro %}
