-- One row per chart and chart date in the facts or in the last analytics build's state: how many
-- entries it has, when they were loaded, and whether it was loaded (or is gone) since that build.
-- Without a saved state (a first build) every date counts as changed.

{% set saved_dates = analytics_relation('int_analytics__state_dates') %}

with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

loaded as (

    select
        chart_id,
        chart_date,
        count(*) as entries,
        max(loaded_at) as loaded_at
    from chart_entries
    group by chart_id, chart_date

),

{% if saved_dates %}

    saved as (

        select * from {{ saved_dates }}

    ),

    final as (

        select
            coalesce(loaded.chart_id, saved.chart_id) as chart_id,
            coalesce(loaded.chart_date, saved.chart_date) as chart_date,
            cast(loaded.entries as integer) as entries,
            loaded.loaded_at,
            coalesce(
                loaded.chart_id is null
                or saved.chart_id is null
                or loaded.entries <> saved.entries
                or loaded.loaded_at <> saved.loaded_at,
                false
            ) as is_changed
        from loaded
        full outer join saved
            on
                loaded.chart_id = saved.chart_id
                and loaded.chart_date = saved.chart_date

    )

{% else %}

    final as (

        select
            chart_id,
            chart_date,
            cast(entries as integer) as entries,
            loaded_at,
            true as is_changed
        from loaded

    )

{% endif %}

select * from final
