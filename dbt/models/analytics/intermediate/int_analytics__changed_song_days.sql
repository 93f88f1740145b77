-- Every chart day of the (chart, song) pairs that changed (int_analytics__changed_songs), after
-- int_chart_song_days is up to date: what the per-song models recompute those pairs from.
-- Empty on a full refresh and on a first build (no per-song table yet), when those models
-- build from int_chart_song_days itself.

{% set per_song_models = [
    'int_chart_songs', 'int_chart_song_runs', 'int_chart_song_months', 'int_chart_song_debut_days'
] %}
{% set per_song_tables = [] %}
{% for name in per_song_models %}
    {% if analytics_relation(name) %}{% do per_song_tables.append(name) %}{% endif %}
{% endfor %}

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
    {% if flags.FULL_REFRESH or not per_song_tables %}where 1 = 0{% endif %}

)

select * from final  -- noqa: AM04
