{#- Warehouse differences, one dispatch macro each (default = PostgreSQL). -#}

{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'spotify_charts')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro redshift__median(expression) -%}
    median({{ expression }})
{%- endmacro %}


{% macro iso_weekday(date_expression) -%}
    {#- 1 = Monday ... 7 = Sunday -#}
    {{ return(adapter.dispatch('iso_weekday', 'spotify_charts')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro redshift__iso_weekday(date_expression) -%}
    {#- Redshift has no isodow: dow counts from Sunday = 0 -#}
    cast(case when extract(dow from {{ date_expression }}) = 0 then 7 else extract(dow from {{ date_expression }}) end as integer)
{%- endmacro %}


{% macro day_number(date_expression) -%}
    {#- Whole days since the first Spotify daily chart: runs and gaps become integer arithmetic. -#}
    cast({{ dbt.datediff("cast('2017-01-01' as date)", date_expression, 'day') }} as integer)
{%- endmacro %}


{% macro percent(part, whole) -%}
    {#- 100 * part / whole, 2 places; 0 when whole is 0 -#}
    cast(round(cast(case when {{ whole }} = 0 then 0 else 100.0 * {{ part }} / {{ whole }} end as numeric(12, 4)), 2) as numeric(5, 2))
{%- endmacro %}


{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}
