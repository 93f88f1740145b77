-- The tracks whose latest entry or first chart date may have changed since the last build: the
-- tracks on the changed chart dates (int_chart_dates__loaded), and those whose latest entry or
-- first chart date int_tracks__latest_entry (read before it is updated) has on one of them.

{% set processed = analytics_relation('int_tracks__latest_entry') %}

with

chart_dates as (

    select * from {{ ref('int_chart_dates__loaded') }}
    where is_changed

),

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

loaded_tracks as (

    select chart_entries.track_id
    from chart_entries
    inner join chart_dates
        on
            chart_entries.chart_id = chart_dates.chart_id
            and chart_entries.chart_date = chart_dates.chart_date

),

{% if processed %}

    latest_on_changed_dates as (

        select latest_entries.track_id
        from {{ processed }} as latest_entries
        inner join chart_dates
            on
                latest_entries.chart_id = chart_dates.chart_id
                and latest_entries.chart_date = chart_dates.chart_date

    ),

    first_on_changed_dates as (

        select latest_entries.track_id
        from {{ processed }} as latest_entries
        where latest_entries.first_chart_date in (select chart_dates.chart_date from chart_dates)

    ),

    final as (

        select track_id from loaded_tracks
        union
        select track_id from latest_on_changed_dates
        union
        select track_id from first_on_changed_dates

    )

{% else %}

    final as (

        select distinct track_id from loaded_tracks

    )

{% endif %}

select * from final
