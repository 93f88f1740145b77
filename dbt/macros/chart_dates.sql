{% macro var_date(name) -%}
    {#- A date var (min_date / max_date) as a SQL date literal; refuses anything but YYYY-MM-DD. -#}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a YYYY-MM-DD date, got " ~ value) }}
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
