with

runs as (

    select * from {{ ref('int_chart_song_runs') }}
    where rank_limit = 10

),

songs as (

    select * from {{ ref('dim_songs') }}

),

ranked as (

    select
        chart_id,
        song_id,
        run_start_date,
        run_end_date,
        run_days,
        row_number() over (
            partition by chart_id, song_id order by run_days desc, run_start_date asc
        ) as length_order
    from runs

),

final as (

    select
        ranked.chart_id,
        ranked.song_id,
        songs.track_name,
        songs.artist_names,
        ranked.run_start_date,
        ranked.run_end_date,
        cast(ranked.run_days as integer) as run_days
    from ranked
    inner join songs
        on ranked.song_id = songs.song_id
    -- each song's longest run; of equal ones, the earliest
    where ranked.length_order = 1

)

select * from final
