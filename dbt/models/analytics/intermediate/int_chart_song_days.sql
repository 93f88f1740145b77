-- One row per chart, chart date and song: the song's best rank that day and its streams (summed
-- when a song charts under two URIs the same day). The base of every per-song question.

with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

final as (

    select
        chart_entries.chart_id,
        chart_entries.chart_date,
        tracks.song_id,
        {{ day_number('chart_entries.chart_date') }} as day_number,
        min(chart_entries.rank) as best_rank,
        sum(chart_entries.streams) as streams
    from chart_entries
    inner join tracks
        on chart_entries.track_id = tracks.track_id
    group by
        chart_entries.chart_id,
        chart_entries.chart_date,
        tracks.song_id

)

select * from final
