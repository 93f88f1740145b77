{% set reentry_gap_days = 7 %}

with

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

songs as (

    select * from {{ ref('dim_songs') }}

),

with_previous as (

    select
        chart_id,
        song_id,
        best_rank,
        day_number,
        lag(day_number)
            over (partition by chart_id, song_id order by day_number)
            as previous_day_number
    from song_days

),

by_song as (

    select
        chart_id,
        song_id,
        sum(
            case when day_number - previous_day_number > {{ reentry_gap_days }} then 1 else 0 end
        ) as reentries,
        min(best_rank) as peak_rank
    from with_previous
    group by chart_id, song_id

),

final as (

    select
        by_song.chart_id,
        by_song.song_id,
        songs.track_name,
        songs.artist_names,
        cast(by_song.reentries as integer) as reentries,
        cast(by_song.peak_rank as integer) as peak_rank
    from by_song
    inner join songs
        on by_song.song_id = songs.song_id
    where by_song.reentries > 0

)

select * from final
