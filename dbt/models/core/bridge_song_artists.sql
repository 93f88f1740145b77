-- The artists each song credits, in credit order (as the song's own track credits them).

with

songs as (

    select * from {{ ref('dim_songs') }}

),

credits as (

    select * from {{ ref('int_track_credits') }}

),

final as (

    select
        songs.song_id,
        credits.artist_position,
        credits.artist_id,
        credits.artist_name
    from songs
    inner join credits
        on songs.song_id = credits.track_id

)

select * from final
