with

source as (

    select * from {{ source('spotify', 'chart_entries') }}

),

renamed as (

    select
        chart_id,
        chart_date,
        rank,
        track_id,
        track_name,
        artist_names,
        streams,
        previous_rank,
        peak_rank,
        peak_date,
        appearances_on_chart,
        consecutive_appearances_on_chart,
        entry_status,
        entry_rank,
        entry_date,
        release_date,
        label_names,
        image_url,
        source as data_source,
        previous_rank is null as is_new_on_chart,
        loaded_at
    from source

)

select * from renamed
