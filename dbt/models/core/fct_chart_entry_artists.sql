-- Incremental like fct_chart_entries (config in dbt_project.yml).
with

chart_entry_artists as (

    select * from {{ ref('stg_spotify__chart_entry_artists') }}

)

-- The staging model's columns, as they are (listed once, there and in the yml).
select * from chart_entry_artists  -- noqa: AM04
where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}
