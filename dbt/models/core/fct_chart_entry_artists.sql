-- Incremental: a run rebuilds the chart dates from var min_date to var max_date. dbt's
-- delete+insert removes the rows of every chart date the run brings, then inserts them
-- (re-running a date never duplicates it). Staging holds a date exactly when the raw store does,
-- so each date of the range that was loaded before comes again.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='chart_date',
        tags=['daily'],
    )
}}

with

chart_entry_artists as (

    select * from {{ ref('stg_spotify__chart_entry_artists') }}

),

final as (

    select
        chart_id,
        chart_date,
        rank,
        track_id,
        artist_position,
        artist_id,
        artist_name
    from chart_entry_artists
    where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}

)

select * from final
