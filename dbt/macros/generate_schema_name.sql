{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- A folder names its schema outright (marts, not main_marts): BI tools query marts.x -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
