-- Every chart day of the (chart, song) pairs that changed (int_analytics__changed_songs), after
-- int_chart_song_days is up to date: what the per-song models recompute those pairs from.
-- Empty on a full refresh, when every model rebuilds from int_chart_song_days itself.

with

song_days as (

    select * from {{ ref('int_chart_song_days') }}

),

changed_songs as (

    select distinct
        chart_id,
        song_id
    from {{ ref('int_analytics__changed_songs') }}

),

final as (

    select song_days.*
    from song_days
    inner join changed_songs
        on
            song_days.chart_id = changed_songs.chart_id
            and song_days.song_id = changed_songs.song_id
    {% if flags.FULL_REFRESH %}where 1 = 0{% endif %}

)

select * from final  -- noqa: AM04
