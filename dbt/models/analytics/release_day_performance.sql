{% set debut_window_days = 14 %}
{% set weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] %}

with

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

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
        {{ iso_weekday('songs.release_date') }} as release_weekday
    from debuts
    inner join songs
        on debuts.song_id = songs.song_id
    where
        songs.release_date is not null
        and debuts.debut_day_number
        - {{ day_number('songs.release_date') }} between 0 and {{ debut_window_days }}

),

per_song as (

    select
        fresh_releases.chart_id,
        fresh_releases.song_id,
        fresh_releases.release_weekday,
        fresh_releases.peak_rank,
        sum(case when song_days.day_number < fresh_releases.debut_day_number + 90 then 1 else 0 end)
            as days_on_chart_first_90,
        sum(
            case
                when
                    song_days.day_number < fresh_releases.debut_day_number + 7
                    then song_days.streams
            end
        )
            as first_week_streams
    from fresh_releases
    inner join song_days
        on
            fresh_releases.chart_id = song_days.chart_id
            and fresh_releases.song_id = song_days.song_id
    group by
        fresh_releases.chart_id,
        fresh_releases.song_id,
        fresh_releases.release_weekday,
        fresh_releases.peak_rank

),

by_weekday as (

    select
        chart_id,
        release_weekday,
        count(*) as songs,
        {{ median('peak_rank') }} as median_peak_rank,
        {{ median('days_on_chart_first_90') }} as median_days_on_chart_first_90,
        {{ median('first_week_streams') }} as median_first_week_streams
    from per_song
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
