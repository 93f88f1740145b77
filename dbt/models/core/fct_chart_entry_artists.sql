{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{{ delete_chart_dates(this) }}",
    )
}}

with

chart_entry_artists as (

    select * from {{ ref('stg_spotify__chart_entry_artists') }}

),

final as (

    select
        chart_id,
        chart_date,
        rank,
        track_id,
        artist_position,
        artist_id,
        artist_name
    from chart_entry_artists
    where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}

)

select * from final
