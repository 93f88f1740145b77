with

song_months as (

    select * from {{ ref('int_chart_song_months') }}

),

chart_songs as (

    select * from {{ ref('int_chart_songs') }}

),

first_months as (

    select
        chart_id,
        song_id,
        {{ month_start('first_chart_date') }} as first_month
    from chart_songs

),

chart_first_months as (

    select
        chart_id,
        min(month_start) as first_loaded_month
    from song_months
    group by chart_id

),

by_month as (

    select
        song_months.chart_id,
        song_months.month_start,
        count(*) as songs_charted,
        sum(case when first_months.first_month = song_months.month_start then 1 else 0 end)
            as new_songs
    from song_months
    inner join first_months
        on
            song_months.chart_id = first_months.chart_id
            and song_months.song_id = first_months.song_id
    group by song_months.chart_id, song_months.month_start

),

final as (

    select
        by_month.chart_id,
        by_month.month_start,
        cast(by_month.songs_charted as integer) as songs_charted,
        cast(by_month.new_songs as integer) as new_songs,
        {{ percent('by_month.new_songs', 'by_month.songs_charted') }} as new_song_pct
    from by_month
    inner join chart_first_months
        on by_month.chart_id = chart_first_months.chart_id
    -- in the first loaded month every song looks new
    where by_month.month_start > chart_first_months.first_loaded_month

)

select * from final
