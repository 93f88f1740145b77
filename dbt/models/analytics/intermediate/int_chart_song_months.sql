-- One row per chart, song and calendar month the song charted in. Incremental like int_chart_songs.

with

song_days as (

    select * from {{ changed_song_days() }}

),

final as (

    select distinct
        chart_id,
        song_id,
        {{ month_start('chart_date') }} as month_start
    from song_days

)

select * from final
