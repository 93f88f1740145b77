-- The song of every track as this build used it, saved for the next build to compare with
-- (int_analytics__chart_dates). Built after every incremental model:
-- depends_on: {{ ref('int_chart_song_days') }}
-- depends_on: {{ ref('int_chart_songs') }}
-- depends_on: {{ ref('int_chart_song_runs') }}
-- depends_on: {{ ref('int_chart_song_months') }}
-- depends_on: {{ ref('int_chart_song_debut_days') }}
-- depends_on: {{ ref('song_signals') }}

with

tracks as (

    select * from {{ ref('dim_tracks') }}

),

final as (

    select
        track_id,
        song_id
    from tracks

)

select * from final
