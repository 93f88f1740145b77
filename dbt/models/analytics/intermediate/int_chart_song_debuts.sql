-- One row per chart and song that debuted on the chart while it was loaded: songs already on the
-- chart on its first loaded date are left out, since their debut may lie before it.

with

chart_songs as (

    select * from {{ ref('int_chart_songs') }}

),

chart_days as (

    select
        chart_id,
        min(first_day_number) as first_day_number,
        max({{ day_number('last_chart_date') }}) as last_day_number
    from chart_songs
    group by chart_id

),

final as (

    select
        chart_songs.chart_id,
        chart_songs.song_id,
        chart_songs.first_chart_date as debut_date,
        chart_songs.first_day_number as debut_day_number,
        chart_days.last_day_number - chart_songs.first_day_number as days_observed,
        chart_songs.peak_rank,
        chart_songs.debut_rank,
        chart_songs.debut_streams,
        chart_songs.days_on_chart_first_90,
        chart_songs.first_week_streams
    from chart_songs
    inner join chart_days
        on chart_songs.chart_id = chart_days.chart_id
    where chart_songs.first_day_number > chart_days.first_day_number

)

select * from final
