{% test relationships_on(model, to, columns) %}

    {#- Every row of the model has a row in `to` with the same `columns` values (composite key). -#}
with

child as (

    select * from {{ model }}

),

parent as (

    select * from {{ to }}

)

select child.*
from child
left join parent
    on
{%- for column in columns %}
        child.{{ column }} = parent.{{ column }}{% if not loop.last %} and{% endif %}
    {%- endfor %}
where parent.{{ columns[0] }} is null

{% endtest %}
