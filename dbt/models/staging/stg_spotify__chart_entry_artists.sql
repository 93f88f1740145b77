with

source as (

    select * from {{ source('spotify', 'chart_entry_artists') }}

),

renamed as (

    select
        chart_id,
        chart_date,
        rank,
        track_id,
        artist_position,
        artist_id,
        artist_name
    from source

)

select * from renamed
