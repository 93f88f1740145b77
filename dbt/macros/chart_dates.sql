{% macro var_date(name) -%}
    {#- A date var (min_date / max_date) as a SQL date literal; only YYYY-MM-DD passes. -#}
    {%- set value = var(name) | string -%}
    {%- set digits = value.replace('-', '') -%}
    {%- if value | length != 10 or value[4] != '-' or value[7] != '-' or not digits.isdigit() -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be YYYY-MM-DD, got " ~ value) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}
