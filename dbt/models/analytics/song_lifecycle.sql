{% set max_days = 180 %}

with

debut_days as (

    select * from {{ ref('int_chart_song_debut_days') }}

),

debuts as (

    select * from {{ ref('int_chart_song_debuts') }}

),

since_debut as (

    -- the songs that debuted while the chart was loaded
    select
        debut_days.chart_id,
        debut_days.days_since_debut,
        debut_days.best_rank,
        debut_days.stream_share
    from debut_days
    inner join debuts
        on
            debut_days.chart_id = debuts.chart_id
            and debut_days.song_id = debuts.song_id

),

charting as (

    select
        chart_id,
        days_since_debut,
        count(*) as songs_charting,
        {{ median('best_rank') }} as median_rank,
        {{ median('stream_share') }} as median_stream_share
    from since_debut
    group by chart_id, days_since_debut

),

observable as (

    -- how many debuts the loaded dates let us follow for at least d days
    select
        chart_id,
        case when days_observed > {{ max_days }} then {{ max_days }} else days_observed end
            as max_days_since_debut,
        count(*) as songs
    from debuts
    group by
        chart_id,
        case when days_observed > {{ max_days }} then {{ max_days }} else days_observed end

),

observed as (

    select
        charting.chart_id,
        charting.days_since_debut,
        sum(observable.songs) as songs_observed
    from charting
    inner join observable
        on
            charting.chart_id = observable.chart_id
            and charting.days_since_debut <= observable.max_days_since_debut
    group by charting.chart_id, charting.days_since_debut

),

final as (

    select
        charting.chart_id,
        cast(charting.days_since_debut as integer) as days_since_debut,
        cast(observed.songs_observed as integer) as songs_observed,
        cast(charting.songs_charting as integer) as songs_charting,
        {{ percent('charting.songs_charting', 'observed.songs_observed') }} as pct_still_charting,
        cast(charting.median_rank as numeric(6, 1)) as median_rank,
        cast(charting.median_stream_share as numeric(10, 4)) as median_stream_share
    from charting
    inner join observed
        on
            charting.chart_id = observed.chart_id
            and charting.days_since_debut = observed.days_since_debut

)

select * from final
