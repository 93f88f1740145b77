{% set buckets = [
    (7, '1 week'), (21, '2-3 weeks'), (42, '4-6 weeks'), (63, '7-9 weeks'), (105, '10-15 weeks'), (none, '16+ weeks')
] %}

with

runs as (

    select * from {{ ref('int_chart_song_runs') }}
    where rank_limit = 50

),

charts as (

    select * from {{ ref('dim_charts') }}

),

buckets as (

    {% for max_days, label in buckets %}
        select cast('{{ label }}' as varchar(16)) as longevity_bucket
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

bucketed as (

    select
        chart_id,
        case
            {% for max_days, label in buckets if max_days %}
                when run_days <= {{ max_days }} then cast('{{ label }}' as varchar(16))
            {% endfor %}
            else cast('{{ buckets[-1][1] }}' as varchar(16))
        end as longevity_bucket
    from runs

),

counted as (

    select
        chart_id,
        longevity_bucket,
        count(*) as runs
    from bucketed
    group by chart_id, longevity_bucket

),

chart_totals as (

    select
        chart_id,
        count(*) as total_runs
    from bucketed
    group by chart_id

),

final as (

    select
        charts.chart_id,
        buckets.longevity_bucket,
        cast(coalesce(counted.runs, 0) as integer) as runs,
        {{ percent('coalesce(counted.runs, 0)', 'coalesce(chart_totals.total_runs, 0)') }}
            as run_pct
    from charts
    cross join buckets
    left join counted
        on
            charts.chart_id = counted.chart_id
            and buckets.longevity_bucket = counted.longevity_bucket
    left join chart_totals
        on charts.chart_id = chart_totals.chart_id

)

select * from final
