{% set debut_window_days = 14 %}
{% set weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] %}

with

songs as (

    select * from {{ ref('dim_songs') }}

),

debuts as (

    select * from {{ ref('int_chart_song_debuts') }}

),

weekdays as (

    {% for name in weekdays %}
        select
            {{ loop.index }} as release_weekday,
            cast('{{ name }}' as varchar(16)) as release_weekday_name
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

fresh_releases as (

    -- songs that debuted on the chart within 14 days of their release
    select
        debuts.chart_id,
        debuts.song_id,
        debuts.debut_day_number,
        debuts.peak_rank,
        debuts.days_on_chart_first_90,
        debuts.first_week_streams,
        {{ iso_weekday('songs.release_date') }} as release_weekday
    from debuts
    inner join songs
        on debuts.song_id = songs.song_id
    where
        songs.release_date is not null
        and debuts.debut_day_number
        - {{ day_number('songs.release_date') }} between 0 and {{ debut_window_days }}

),

by_weekday as (

    select
        chart_id,
        release_weekday,
        count(*) as songs,
        {{ median('peak_rank') }} as median_peak_rank,
        {{ median('days_on_chart_first_90') }} as median_days_on_chart_first_90,
        {{ median('first_week_streams') }} as median_first_week_streams
    from fresh_releases
    group by chart_id, release_weekday

),

charts as (

    select distinct chart_id from debuts

),

final as (

    select
        charts.chart_id,
        weekdays.release_weekday,
        weekdays.release_weekday_name,
        cast(coalesce(by_weekday.songs, 0) as integer) as songs,
        cast(by_weekday.median_peak_rank as numeric(6, 1)) as median_peak_rank,
        cast(by_weekday.median_days_on_chart_first_90 as numeric(6, 1))
            as median_days_on_chart_first_90,
        cast(by_weekday.median_first_week_streams as numeric(16, 1)) as median_first_week_streams
    from charts
    cross join weekdays
    left join by_weekday
        on
            charts.chart_id = by_weekday.chart_id
            and weekdays.release_weekday = by_weekday.release_weekday

)

select * from final
