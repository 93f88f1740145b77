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

chart_entries as (

    select * from {{ ref('stg_spotify__chart_entries') }}

),

final as (

    select
        chart_id,
        chart_date,
        rank,
        track_id,
        track_name,
        artist_names,
        streams,
        previous_rank,
        peak_rank,
        peak_date,
        appearances_on_chart,
        consecutive_appearances_on_chart,
        entry_status,
        entry_rank,
        entry_date,
        release_date,
        label_names,
        image_url,
        data_source,
        is_new_on_chart,
        loaded_at
    from chart_entries
    where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}

)

select * from final
