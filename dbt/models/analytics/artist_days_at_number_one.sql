with

chart_entry_artists as (

    select * from {{ ref('fct_chart_entry_artists') }}

),

artists as (

    select * from {{ ref('dim_artists') }}

),

by_artist as (

    select
        chart_id,
        artist_id,
        count(distinct chart_date) as days_at_number_one
    from chart_entry_artists
    where rank = 1 and artist_id is not null
    group by chart_id, artist_id

),

final as (

    select
        by_artist.chart_id,
        by_artist.artist_id,
        artists.artist_name,
        cast(by_artist.days_at_number_one as integer) as days_at_number_one
    from by_artist
    inner join artists
        on by_artist.artist_id = artists.artist_id

)

select * from final
