-- One row per chart, chart date, song and signal: the songs at a decision point that day (rules
-- and thresholds in song_signals.yml and docs/signals.md). A signal looks back at earlier dates
-- of its chart, so a build computes the chart dates from the first one that changed since the
-- last build on (a daily update: the new date alone); the pre-hook deletes those dates first.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_recomputed_signals() }}",
) }}

{% set climbing_days = signal_threshold('signals_climbing_days', 3, 3650) %}
{% set climbing_places = signal_threshold('signals_climbing_places', 1, 199) %}
{% set fading_days = signal_threshold('signals_fading_days', 1, 3650) %}
{% set fading_pct = signal_threshold('signals_fading_pct', 1, 100) %}
{% set reentry_days = signal_threshold('signals_reentry_days', 1, 3650) %}
{% set spreading_charts = signal_threshold('signals_spreading_charts', 1, 1000) %}

with

chart_dates as (

    select * from {{ ref('int_analytics__chart_dates') }}

),

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

chart_songs as (

    select * from {{ ref('int_chart_songs') }}

),

loaded_dates as (

    -- each loaded chart date with the chart's previous loaded date and its first
    select
        chart_id,
        chart_date,
        lag(chart_date) over (partition by chart_id order by chart_date) as previous_chart_date,
        min(chart_date) over (partition by chart_id) as first_loaded_date
    from chart_dates
    where entries is not null

),

{% if incremental_build() %}

    first_changed as (

        select min(chart_date) as chart_date
        from chart_dates
        where is_changed

    ),

    signal_dates as (

        -- the chart dates this build computes the signals of: from the first changed one on
        select loaded_dates.*
        from loaded_dates
        inner join first_changed
            on loaded_dates.chart_date >= first_changed.chart_date

    ),

    signal_pairs as (

        -- the (chart, song) pairs on those dates or on the chart date before one
        select
            song_days.chart_id,
            song_days.song_id
        from song_days
        inner join signal_dates
            on
                song_days.chart_id = signal_dates.chart_id
                and song_days.chart_date = signal_dates.chart_date
        union
        select
            song_days.chart_id,
            song_days.song_id
        from song_days
        inner join signal_dates
            on
                song_days.chart_id = signal_dates.chart_id
                and song_days.chart_date = signal_dates.previous_chart_date

    ),

    pair_days as (

        -- all their days: a signal may look back to the song's debut or last appearance
        select song_days.*
        from song_days
        inner join signal_pairs
            on
                song_days.chart_id = signal_pairs.chart_id
                and song_days.song_id = signal_pairs.song_id

    ),

{% else %}

    signal_dates as (

        select * from loaded_dates

    ),

    pair_days as (

        select * from song_days

    ),

{% endif %}

history as (

    select
        chart_id,
        chart_date,
        song_id,
        day_number,
        best_rank,
        streams,
        lag(day_number)
            over (partition by chart_id, song_id order by day_number)
            as previous_day_number,
        max(streams) over (
            partition by chart_id, song_id order by day_number
            rows between unbounded preceding and current row
        ) as peak_streams,
        -- on a date whose signals are computed, every song charting that day is in pair_days
        count(*) over (partition by song_id, chart_date) - 1 as other_charts
    from pair_days

),

with_fading as (

    select
        *,
        coalesce(
            streams is not null
            and peak_streams > 0
            and 100 * (peak_streams - streams) >= {{ fading_pct }} * peak_streams,
            false
        ) as is_faded
    from history

),

song_history as (

    select
        *,
        coalesce(
            lag(is_faded) over (partition by chart_id, song_id order by day_number), false
        ) as was_faded
    from with_fading

),

signal_keys as (

    -- the songs on each computed chart date, and those on the chart date before (a top-10 exit)
    select
        song_history.chart_id,
        song_history.chart_date,
        song_history.song_id
    from song_history
    inner join signal_dates
        on
            song_history.chart_id = signal_dates.chart_id
            and song_history.chart_date = signal_dates.chart_date
    union
    select
        signal_dates.chart_id,
        signal_dates.chart_date,
        song_history.song_id
    from song_history
    inner join signal_dates
        on
            song_history.chart_id = signal_dates.chart_id
            and song_history.chart_date = signal_dates.previous_chart_date

),

song_dates as (

    select
        signal_keys.chart_id,
        signal_keys.chart_date,
        signal_keys.song_id,
        today.best_rank as rank,
        previous_day.best_rank as previous_rank,
        today.streams,
        today.peak_streams,
        today.is_faded,
        today.was_faded,
        today.other_charts,
        today.day_number - today.previous_day_number - 1 as days_away,
        three_days_before.best_rank as rank_three_days_before,
        signal_dates.previous_chart_date,
        {{ day_number('signal_keys.chart_date') }}
        - chart_songs.first_day_number as days_since_debut,
        -- a debut while the chart was loaded (on its first loaded date every song is new to us)
        chart_songs.first_chart_date > signal_dates.first_loaded_date as is_seen_debut
    from signal_keys
    inner join signal_dates
        on
            signal_keys.chart_id = signal_dates.chart_id
            and signal_keys.chart_date = signal_dates.chart_date
    inner join chart_songs
        on
            signal_keys.chart_id = chart_songs.chart_id
            and signal_keys.song_id = chart_songs.song_id
    left join song_history as today
        on
            signal_keys.chart_id = today.chart_id
            and signal_keys.song_id = today.song_id
            and signal_keys.chart_date = today.chart_date
    left join song_history as previous_day
        on
            signal_keys.chart_id = previous_day.chart_id
            and signal_keys.song_id = previous_day.song_id
            and signal_dates.previous_chart_date = previous_day.chart_date
    left join song_history as three_days_before
        on
            today.chart_id = three_days_before.chart_id
            and today.song_id = three_days_before.song_id
            and today.day_number - 3 = three_days_before.day_number

),

climbing as (

    select
        *,
        'climbing' as signal,
        'up ' || cast(rank_three_days_before - rank as varchar(8)) || ' places in 3 days (#'
        || cast(rank_three_days_before as varchar(8)) || ' to #' || cast(rank as varchar(8))
        || '), day ' || cast(days_since_debut as varchar(8)) || ' after its debut' as reason
    from song_dates
    where
        is_seen_debut
        and days_since_debut <= {{ climbing_days }}
        and rank_three_days_before - rank >= {{ climbing_places }}

),

fading_early as (

    select
        *,
        'fading_early' as signal,
        'streams '
        || cast(
            cast(floor(100.0 * (peak_streams - streams) / peak_streams) as integer) as varchar(8)
        )
        || '% below its peak, day ' || cast(days_since_debut as varchar(8)) || ' after its debut'
            as reason
    from song_dates
    where
        is_seen_debut
        and days_since_debut <= {{ fading_days }}
        and is_faded
        and not was_faded

),

reentry as (

    select
        *,
        'reentry' as signal,
        'back on the chart at #' || cast(rank as varchar(8)) || ' after '
        || cast(days_away as varchar(8)) || ' days away' as reason
    from song_dates
    where days_away >= {{ reentry_days }}

),

spreading as (

    select
        *,
        'spreading' as signal,
        'new on this chart at #' || cast(rank as varchar(8)) || ', already on '
        || cast(other_charts as varchar(8)) || ' other charts' as reason
    from song_dates
    where
        is_seen_debut
        and days_since_debut = 0
        and other_charts >= {{ spreading_charts }}

),

top_10_entry as (

    select
        *,
        'top_10_entry' as signal,
        'into the top 10 at #' || cast(rank as varchar(8))
        || coalesce(
            ' (from #' || cast(previous_rank as varchar(8)) || ')',
            ' (not on the chart the day before)'
        ) as reason
    from song_dates
    where
        rank <= 10
        and previous_chart_date is not null
        and (previous_rank is null or previous_rank > 10)

),

top_10_exit as (

    select
        *,
        'top_10_exit' as signal,
        'out of the top 10 (#' || cast(previous_rank as varchar(8)) || ' to '
        || coalesce('#' || cast(rank as varchar(8)) || ')', 'off the chart)') as reason
    from song_dates
    where
        previous_rank <= 10
        and (rank is null or rank > 10)

),

signals as (

    select * from climbing
    union all
    select * from fading_early
    union all
    select * from reentry
    union all
    select * from spreading
    union all
    select * from top_10_entry
    union all
    select * from top_10_exit

),

final as (

    -- (each column cast to its contract type: an incremental build compares them with the table's)
    select
        cast(chart_id as varchar(64)) as chart_id,
        cast(chart_date as date) as chart_date,
        cast(song_id as varchar(64)) as song_id,
        cast(signal as varchar(32)) as signal,
        cast(rank as integer) as rank,
        cast(previous_rank as integer) as previous_rank,
        cast(streams as bigint) as streams,
        cast(days_since_debut as integer) as days_since_debut,
        cast(reason as varchar(256)) as reason
    from signals

)

select * from final
