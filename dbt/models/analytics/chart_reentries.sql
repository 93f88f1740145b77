-- Re-entries (a return after more than 7 days off the chart) are counted per chart and song in
-- int_chart_songs.

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
        cast(chart_songs.reentries as integer) as reentries,
        cast(chart_songs.peak_rank as integer) as peak_rank
    from chart_songs
    inner join songs
        on chart_songs.song_id = songs.song_id
    where chart_songs.reentries > 0

)

select * from final
