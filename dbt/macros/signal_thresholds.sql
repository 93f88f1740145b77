{% macro signal_threshold(name, min_value, max_value) -%}
    {#- A threshold var of marts.song_signals (dbt_project.yml, docs/signals.md) as a whole number:
        anything else, or a value outside min_value..max_value (negative days, a percentage over
        100), stops the build with a message naming the var. -#}
    {%- set raw = var(name) | string | trim -%}
    {%- set digits = raw[1:] if raw.startswith('-') else raw -%}
    {%- if not digits.isdigit() or (raw | int) < min_value or (raw | int) > max_value -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number from " ~ min_value ~ " to " ~ max_value ~ ", got " ~ raw
        ) }}
    {%- endif -%}
    {{ return(raw | int) }}
{%- endmacro %}


{% macro delete_recomputed_signals() -%}
    {#- Pre-hook of song_signals: delete its rows from the first chart date this build recomputes
        on (int_analytics__chart_dates.is_changed), so a date whose signals are gone leaves none
        behind. Nothing on a full build, or when nothing changed. -#}
    {%- if incremental_build() -%}
        delete from {{ this }}
        where chart_date >= (
            select min(chart_date) from {{ ref('int_analytics__chart_dates') }} where is_changed
        )
    {%- endif -%}
{%- endmacro %}
