with

chart_songs as (

    select * from {{ ref('int_chart_songs') }}

),

songs as (

    select * from {{ ref('dim_songs') }}

),

final as (

    select
        chart_songs.chart_id,
        chart_songs.song_id,
        songs.track_name,
        songs.artist_names,
        cast(chart_songs.total_streams as bigint) as total_streams,
        cast(chart_songs.days_on_chart as integer) as days_on_chart,
        cast(chart_songs.days_in_top_10 as integer) as days_in_top_10,
        cast(chart_songs.peak_rank as integer) as peak_rank,
        chart_songs.first_chart_date,
        chart_songs.last_chart_date,
        cast(row_number() over (
            partition by chart_songs.chart_id
            order by
                coalesce(chart_songs.total_streams, 0) desc,
                chart_songs.days_on_chart desc,
                chart_songs.song_id asc
        ) as integer) as streams_rank
    from chart_songs
    inner join songs
        on chart_songs.song_id = songs.song_id

)

select * from final
