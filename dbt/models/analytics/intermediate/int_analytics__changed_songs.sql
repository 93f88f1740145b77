-- The (chart, song) pairs whose chart days changed and that a build has not yet handled: the
-- songs on each changed date before it changed (in int_chart_song_days, read before it is
-- updated) and after (in the facts). Rows are appended; int_analytics__state_dates empties the
-- table once a build has handled them, so a build that fails midway leaves them for the next.

{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}

{% set processed_song_days = analytics_relation('int_chart_song_days') %}

with

chart_dates as (

    select * from {{ ref('int_analytics__chart_dates') }}
    where is_changed

),

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

loaded_pairs as (

    select distinct
        chart_entries.chart_id,
        tracks.song_id
    from chart_entries
    inner join chart_dates
        on
            chart_entries.chart_id = chart_dates.chart_id
            and chart_entries.chart_date = chart_dates.chart_date
    inner join tracks
        on chart_entries.track_id = tracks.track_id

),

{% if processed_song_days %}

    processed_pairs as (

        select distinct
            song_days.chart_id,
            song_days.song_id
        from {{ processed_song_days }} as song_days
        inner join chart_dates
            on
                song_days.chart_id = chart_dates.chart_id
                and song_days.chart_date = chart_dates.chart_date

    ),

    final as (

        select * from loaded_pairs
        union
        select * from processed_pairs

    )

{% else %}

    final as (

        select * from loaded_pairs

    )

{% endif %}

select * from final
