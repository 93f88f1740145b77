-- One row per chart and song that debuted on the chart while it was loaded: songs already on the
-- chart on its first loaded date are left out, since their debut may lie before it.

with

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

chart_first_days as (

    select
        chart_id,
        min(day_number) as first_day_number,
        max(day_number) as last_day_number
    from song_days
    group by chart_id

),

by_song as (

    select
        chart_id,
        song_id,
        min(day_number) as debut_day_number,
        min(chart_date) as debut_date,
        min(best_rank) as peak_rank
    from song_days
    group by chart_id, song_id

),

final as (

    select
        by_song.chart_id,
        by_song.song_id,
        by_song.debut_date,
        by_song.debut_day_number,
        chart_first_days.last_day_number - by_song.debut_day_number as days_observed,
        by_song.peak_rank,
        song_days.best_rank as debut_rank,
        song_days.streams as debut_streams
    from by_song
    inner join chart_first_days
        on by_song.chart_id = chart_first_days.chart_id
    inner join song_days
        on
            by_song.chart_id = song_days.chart_id
            and by_song.song_id = song_days.song_id
            and by_song.debut_day_number = song_days.day_number
    where by_song.debut_day_number > chart_first_days.first_day_number

)

select * from final
