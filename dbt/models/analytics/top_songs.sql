with

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

songs as (

    select * from {{ ref('dim_songs') }}

),

by_song as (

    select
        chart_id,
        song_id,
        sum(streams) as total_streams,
        count(*) as days_on_chart,
        sum(case when best_rank <= 10 then 1 else 0 end) as days_in_top_10,
        min(best_rank) as peak_rank,
        min(chart_date) as first_chart_date,
        max(chart_date) as last_chart_date
    from song_days
    group by chart_id, song_id

),

final as (

    select
        by_song.chart_id,
        by_song.song_id,
        songs.track_name,
        songs.artist_names,
        cast(by_song.total_streams as bigint) as total_streams,
        cast(by_song.days_on_chart as integer) as days_on_chart,
        cast(by_song.days_in_top_10 as integer) as days_in_top_10,
        cast(by_song.peak_rank as integer) as peak_rank,
        by_song.first_chart_date,
        by_song.last_chart_date,
        cast(row_number() over (
            partition by by_song.chart_id
            order by
                coalesce(by_song.total_streams, 0) desc,
                by_song.days_on_chart desc,
                by_song.song_id asc
        ) as integer) as streams_rank
    from by_song
    inner join songs
        on by_song.song_id = songs.song_id

)

select * from final
