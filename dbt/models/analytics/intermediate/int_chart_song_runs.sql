-- One row per run: a maximal stretch of consecutive chart dates on which a song is on a chart
-- within a rank limit (top 10, top 50, anywhere on it). run_days counts the dates, inclusive.
-- Incremental like int_chart_songs: the pairs that changed are computed again from all their days.

{% set rank_limits = [10, 50, 200] %}

with

song_days as (

    select * from {{ changed_song_days() }}

),

{% for rank_limit in rank_limits %}
    within_top_{{ rank_limit }} as (

        select
            chart_id,
            song_id,
            chart_date,
            {{ rank_limit }} as rank_limit,
            -- consecutive days share this key: day number minus the day's position
            -- among the song's days
            day_number
            - row_number() over (partition by chart_id, song_id order by day_number) as run_key
        from song_days
        where best_rank <= {{ rank_limit }}

    ),

{% endfor %}

days_within_limits as (

    {% for rank_limit in rank_limits %}
        select * from within_top_{{ rank_limit }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        chart_id,
        song_id,
        rank_limit,
        min(chart_date) as run_start_date,
        max(chart_date) as run_end_date,
        cast(count(*) as integer) as run_days
    from days_within_limits
    group by chart_id, song_id, rank_limit, run_key

)

select * from final
