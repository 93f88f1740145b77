-- One row per chart, chart date and song: the song's best rank that day and its streams (summed
-- when a song charts under two URIs the same day). The base of every per-song question.
-- Incremental: a build deletes the chart dates that changed (int_analytics__chart_dates) and
-- inserts them again from the facts; the other dates stay as they are.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed('int_analytics__chart_dates', ['chart_id', 'chart_date'], 'is_changed') }}",
) }}

-- The pairs these dates touched are taken before this model changes them:
-- depends_on: {{ ref('int_analytics__changed_songs') }}

with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

chart_dates as (

    select * from {{ ref('int_analytics__chart_dates') }}
    {% if incremental_build() %}where is_changed{% endif %}

),

final as (

    select
        chart_entries.chart_id,
        chart_entries.chart_date,
        tracks.song_id,
        {{ day_number('chart_entries.chart_date') }} as day_number,
        min(chart_entries.rank) as best_rank,
        sum(chart_entries.streams) as streams
    from chart_entries
    inner join chart_dates
        on
            chart_entries.chart_id = chart_dates.chart_id
            and chart_entries.chart_date = chart_dates.chart_date
    inner join tracks
        on chart_entries.track_id = tracks.track_id
    group by
        chart_entries.chart_id,
        chart_entries.chart_date,
        tracks.song_id

)

select * from final
