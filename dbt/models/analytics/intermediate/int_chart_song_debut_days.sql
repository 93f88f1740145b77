-- One row per chart, song and day of its first 181 on the chart (day 0 is its first chart date):
-- its best rank, and its streams as a share of its first day's. Incremental like int_chart_songs.

{% set max_days = 180 %}

with

song_days as (

    select * from {{ changed_song_days() }}

),

chart_songs as (

    -- each pair's first day and its streams (up to date for the changed pairs: built before)
    select * from {{ ref('int_chart_songs') }}

),

final as (

    select
        song_days.chart_id,
        song_days.song_id,
        song_days.day_number - chart_songs.first_day_number as days_since_debut,
        song_days.best_rank,
        case
            when chart_songs.debut_streams > 0
                then 1.0 * song_days.streams / chart_songs.debut_streams
        end as stream_share
    from song_days
    inner join chart_songs
        on
            song_days.chart_id = chart_songs.chart_id
            and song_days.song_id = chart_songs.song_id
    where song_days.day_number - chart_songs.first_day_number <= {{ max_days }}

)

select * from final
