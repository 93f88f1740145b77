-- One row per track and credited artist, in credit order, as the track's latest entry credits them.

with

latest_entries as (

    select * from {{ ref('int_tracks__latest_entry') }}

),

chart_entry_artists as (

    select * from {{ ref('fct_chart_entry_artists') }}

),

final as (

    select
        latest_entries.track_id,
        chart_entry_artists.artist_position,
        chart_entry_artists.artist_id,
        chart_entry_artists.artist_name
    from latest_entries
    inner join chart_entry_artists
        on
            latest_entries.chart_id = chart_entry_artists.chart_id
            and latest_entries.chart_date = chart_entry_artists.chart_date
            and latest_entries.rank = chart_entry_artists.rank

)

select * from final
