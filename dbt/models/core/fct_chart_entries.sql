{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{{ delete_chart_dates(this) }}",
    )
}}

with

chart_entries as (

    select * from {{ ref('stg_spotify__chart_entries') }}

),

final as (

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
        data_source,
        is_new_on_chart,
        loaded_at
    from chart_entries
    where chart_date between {{ var_date('min_date') }} and {{ var_date('max_date') }}

)

select * from final
