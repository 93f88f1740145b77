with

chart_entry_artists as (

    select * from {{ ref('fct_chart_entry_artists') }}

),

by_recency as (

    select
        artist_id,
        artist_name,
        min(chart_date) over (partition by artist_id) as first_chart_date,
        max(chart_date) over (partition by artist_id) as last_chart_date,
        row_number()
            over (partition by artist_id order by chart_date desc, chart_id asc, rank asc)
            as recency
    from chart_entry_artists
    where artist_id is not null

),

final as (

    select
        artist_id,
        artist_name,
        first_chart_date,
        last_chart_date
    from by_recency
    where recency = 1

)

select * from final
