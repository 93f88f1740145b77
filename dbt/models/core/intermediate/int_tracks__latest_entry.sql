-- One row per track: its most recent chart entry (any chart), which gives its current attributes.
-- Incremental: the tracks that may have changed (int_tracks__changed) are computed again from all
-- their entries; the others stay as they are.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed('int_tracks__changed', ['track_id']) }}",
) }}

-- depends_on: {{ ref('int_tracks__changed') }}

with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}
    {% if incremental_build() %}
        -- noqa: disable=RF02
        where track_id in (select track_id from {{ ref('int_tracks__changed') }})
        -- noqa: enable=RF02
    {% endif %}

),

by_recency as (

    select
        track_id,
        chart_id,
        chart_date,
        rank,
        track_name,
        artist_names,
        release_date,
        label_names,
        image_url,
        min(chart_date) over (partition by track_id) as first_chart_date,
        max(chart_date) over (partition by track_id) as last_chart_date,
        row_number() over (partition by track_id order by chart_date desc, chart_id asc) as recency
    from chart_entries

),

final as (

    select
        track_id,
        chart_id,
        chart_date,
        rank,
        track_name,
        artist_names,
        release_date,
        label_names,
        image_url,
        first_chart_date,
        last_chart_date
    from by_recency
    where recency = 1

)

select * from final
