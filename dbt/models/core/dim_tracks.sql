with

latest_entries as (

    select * from {{ ref('int_tracks__latest_entry') }}

),

credits as (

    select * from {{ ref('int_track_credits') }}

),

credit_keys as (

    -- An artist's id; a credit without one (chart CSV downloads carry only names) by its name.
    select
        track_id,
        coalesce(artist_id, 'name:' || artist_name) as credit_key
    from credits

),

artist_sets as (

    select
        track_id,
        {{ dbt.listagg('credit_key', "','", 'order by credit_key') }} as artist_set
    from credit_keys
    group by track_id

),

tracks as (

    select
        latest_entries.*,
        coalesce(artist_sets.artist_set, '') as artist_set
    from latest_entries
    left join artist_sets
        on latest_entries.track_id = artist_sets.track_id

),

songs as (

    -- A song is one name and one set of credited artists: re-issues under new URIs share it.
    select
        track_name,
        artist_set,
        min(track_id) as song_id
    from tracks
    group by track_name, artist_set

),

final as (

    select
        tracks.track_id,
        songs.song_id,
        tracks.track_name,
        tracks.artist_names,
        tracks.artist_set,
        tracks.release_date,
        tracks.label_names,
        tracks.image_url,
        tracks.first_chart_date,
        tracks.last_chart_date
    from tracks
    inner join songs
        on
            tracks.track_name = songs.track_name
            and tracks.artist_set = songs.artist_set

)

select * from final
