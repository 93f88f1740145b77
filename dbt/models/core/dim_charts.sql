with

chart_entries as (

    select * from {{ ref('fct_chart_entries') }}

),

regions as (

    select * from {{ ref('regions') }}

),

loaded as (

    select
        chart_id,
        min(chart_date) as first_chart_date,
        max(chart_date) as last_chart_date,
        count(distinct chart_date) as days_loaded
    from chart_entries
    group by chart_id

),

final as (

    select
        loaded.chart_id,
        regions.code as region_code,
        regions.name as region_name,
        loaded.first_chart_date,
        loaded.last_chart_date,
        cast(loaded.days_loaded as integer) as days_loaded
    from loaded
    left join regions
        on loaded.chart_id = 'regional-' || regions.code || '-daily'

)

select * from final
