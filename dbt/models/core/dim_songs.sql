with

tracks as (

    select * from {{ ref('dim_tracks') }}

),

by_song as (

    select
        song_id,
        count(*) as track_count,
        min(release_date) as release_date,
        min(first_chart_date) as first_chart_date,
        max(last_chart_date) as last_chart_date
    from tracks
    group by song_id

),

final as (

    select
        by_song.song_id,
        tracks.track_name,
        tracks.artist_names,
        cast(by_song.track_count as integer) as track_count,
        by_song.release_date,
        by_song.first_chart_date,
        by_song.last_chart_date
    from by_song
    -- the song's own track (its smallest id) names it
    inner join tracks
        on by_song.song_id = tracks.track_id

)

select * from final
