-- Incremental (config in dbt_project.yml): a run rebuilds the chart dates from var min_date to
-- var max_date. dbt's delete+insert removes the rows of every chart date the run brings, then
-- inserts them (re-running a date never duplicates it). Staging holds a date exactly when the
-- raw store does, so each date of the range that was loaded before comes again.
with

chart_entries as (

    select * from {{ ref('stg_spotify__chart_entries') }}

)

-- The staging model's columns, as they are (listed once, there and in the yml).
select * from chart_entries  -- noqa: AM04
where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}
