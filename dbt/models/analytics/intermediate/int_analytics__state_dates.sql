-- The chart dates this build handled (their entries and load time), saved for the next build to
-- compare with (int_analytics__chart_dates). Built last; its post-hook empties the changed pairs,
-- which every incremental model has handled by then.

{{ config(post_hook="delete from {{ ref('int_analytics__changed_songs') }}") }}

-- depends_on: {{ ref('int_analytics__state_tracks') }}

with

chart_dates as (

    select * from {{ ref('int_analytics__chart_dates') }}

),

final as (

    select
        chart_id,
        chart_date,
        entries,
        loaded_at
    from chart_dates
    where entries is not null

)

select * from final
