-- One row per chart and chart date in the facts or in the last build's state (its entries and
-- load time, from int_chart_dates__loaded), and whether it changed since that build: loaded
-- since, gone since, or holding a track whose song changed (a re-issue or a renamed track moves
-- songs). Without a saved state (a first build) every date counts as changed.
-- depends_on: {{ ref('fct_chart_entries') }}
-- depends_on: {{ ref('dim_tracks') }}

{% set saved_tracks = analytics_relation('int_analytics__state_tracks') %}

with

chart_dates as (

    select * from {{ ref('int_chart_dates__loaded') }}

),

{% if saved_tracks %}

    chart_entries as (

        select * from {{ ref('fct_chart_entries') }}

    ),

    tracks as (

        select * from {{ ref('dim_tracks') }}

    ),

    remapped_tracks as (

        select tracks.track_id
        from tracks
        inner join {{ saved_tracks }} as saved_tracks
            on tracks.track_id = saved_tracks.track_id
        where tracks.song_id <> saved_tracks.song_id

    ),

    remapped_dates as (

        select distinct
            chart_entries.chart_id,
            chart_entries.chart_date
        from chart_entries
        inner join remapped_tracks
            on chart_entries.track_id = remapped_tracks.track_id

    ),

    final as (

        select
            chart_dates.chart_id,
            chart_dates.chart_date,
            chart_dates.entries,
            chart_dates.loaded_at,
            chart_dates.is_changed or remapped_dates.chart_id is not null as is_changed
        from chart_dates
        left join remapped_dates
            on
                chart_dates.chart_id = remapped_dates.chart_id
                and chart_dates.chart_date = remapped_dates.chart_date

    )

{% else %}

    final as (

        select
            chart_id,
            chart_date,
            entries,
            loaded_at,
            true as is_changed
        from chart_dates

    )

{% endif %}

select * from final
