-- One row per chart, song and day of its first 181 on the chart (day 0 is its first chart date):
-- its best rank, and its streams as a share of its first day's. Incremental like int_chart_songs.

{% set max_days = 180 %}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed('int_analytics__changed_songs', ['chart_id', 'song_id']) }}",
) }}

-- depends_on: {{ ref('int_analytics__changed_song_days') }}
-- depends_on: {{ ref('int_analytics__changed_songs') }}

with

song_days as (

    select * from {{ changed_song_days() }}

),

with_first_day as (

    select
        chart_id,
        song_id,
        day_number,
        best_rank,
        streams,
        min(day_number) over (partition by chart_id, song_id) as first_day_number
    from song_days

),

first_days as (

    select
        chart_id,
        song_id,
        streams as first_day_streams
    from with_first_day
    where day_number = first_day_number

),

final as (

    select
        with_first_day.chart_id,
        with_first_day.song_id,
        with_first_day.day_number - with_first_day.first_day_number as days_since_debut,
        with_first_day.best_rank,
        case
            when first_days.first_day_streams > 0
                then 1.0 * with_first_day.streams / first_days.first_day_streams
        end as stream_share
    from with_first_day
    inner join first_days
        on
            with_first_day.chart_id = first_days.chart_id
            and with_first_day.song_id = first_days.song_id
    where with_first_day.day_number - with_first_day.first_day_number <= {{ max_days }}

)

select * from final
