-- One row per chart and song: its whole history on the chart in one row (first and last date,
-- days on it, in its top 10 and in its first 90 days, streams, peak, debut day's rank and
-- streams, re-entries). Incremental: the pairs that changed are computed again from all their days.

{% set reentry_gap_days = 7 %}

with

song_days as (

    select * from {{ changed_song_days() }}

),

with_previous as (

    select
        chart_id,
        song_id,
        chart_date,
        day_number,
        best_rank,
        streams,
        min(day_number) over (partition by chart_id, song_id) as first_day_number,
        lag(day_number)
            over (partition by chart_id, song_id order by day_number)
            as previous_day_number
    from song_days

),

final as (

    select
        chart_id,
        song_id,
        min(chart_date) as first_chart_date,
        max(chart_date) as last_chart_date,
        min(first_day_number) as first_day_number,
        cast(count(*) as integer) as days_on_chart,
        cast(sum(case when best_rank <= 10 then 1 else 0 end) as integer) as days_in_top_10,
        cast(
            sum(case when day_number < first_day_number + 90 then 1 else 0 end) as integer
        ) as days_on_chart_first_90,
        sum(streams) as total_streams,
        sum(case when day_number < first_day_number + 7 then streams end) as first_week_streams,
        cast(min(best_rank) as integer) as peak_rank,
        cast(max(case when day_number = first_day_number then best_rank end) as integer)
            as debut_rank,
        max(case when day_number = first_day_number then streams end) as debut_streams,
        cast(sum(
            case when day_number - previous_day_number > {{ reentry_gap_days }} then 1 else 0 end
        ) as integer) as reentries
    from with_previous
    group by chart_id, song_id

)

select * from final
