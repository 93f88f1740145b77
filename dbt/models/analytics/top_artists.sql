with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

chart_entry_artists as (

    select * from {{ ref('fct_chart_entry_artists') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

artists as (

    select * from {{ ref('dim_artists') }}

),

credited_entries as (

    -- every credited artist gets the entry's streams in full
    select
        chart_entry_artists.chart_id,
        chart_entry_artists.artist_id,
        chart_entry_artists.chart_date,
        chart_entry_artists.rank,
        chart_entries.streams,
        tracks.song_id
    from chart_entry_artists
    inner join chart_entries
        on
            chart_entry_artists.chart_id = chart_entries.chart_id
            and chart_entry_artists.chart_date = chart_entries.chart_date
            and chart_entry_artists.rank = chart_entries.rank
    inner join tracks
        on chart_entries.track_id = tracks.track_id
    where chart_entry_artists.artist_id is not null

),

by_artist as (

    select
        chart_id,
        artist_id,
        sum(streams) as total_streams,
        count(distinct chart_date) as days_on_chart,
        count(distinct case when rank <= 10 then chart_date end) as days_in_top_10,
        count(distinct song_id) as songs,
        min(rank) as peak_rank,
        min(chart_date) as first_chart_date,
        max(chart_date) as last_chart_date
    from credited_entries
    group by chart_id, artist_id

),

final as (

    select
        by_artist.chart_id,
        by_artist.artist_id,
        artists.artist_name,
        cast(by_artist.total_streams as bigint) as total_streams,
        cast(by_artist.days_on_chart as integer) as days_on_chart,
        cast(by_artist.days_in_top_10 as integer) as days_in_top_10,
        cast(by_artist.songs as integer) as songs,
        cast(by_artist.peak_rank as integer) as peak_rank,
        by_artist.first_chart_date,
        by_artist.last_chart_date,
        cast(row_number() over (
            partition by by_artist.chart_id
            order by
                coalesce(by_artist.total_streams, 0) desc,
                by_artist.days_on_chart desc,
                by_artist.artist_id asc
        ) as integer) as streams_rank
    from by_artist
    inner join artists
        on by_artist.artist_id = artists.artist_id

)

select * from final
