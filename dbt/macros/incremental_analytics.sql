{#-
    The incremental analytics models (README, "How the marts stay incremental").

    int_analytics__chart_dates marks the (chart, date) pairs whose facts changed since the last
    build; int_analytics__changed_songs keeps the (chart, song) pairs those dates touch until a
    build has handled them. Each incremental model deletes its rows for what changed (a pre-hook,
    in the model's transaction) and inserts them again, computed from the pairs' whole history.
-#}

{% macro delete_changed(changes_model, key_columns, where=none) -%}
    {#- Pre-hook: delete this model's rows whose keys are in changes_model (a plain
        DELETE ... USING of two tables, which Redshift takes too). Nothing on a full build. -#}
    {%- if incremental_build() -%}
        {%- set changes = ref(changes_model) -%}
        {%- set conditions = [] -%}
        {%- for column in key_columns -%}
            {%- set target_column = this.identifier ~ '.' ~ column -%}
            {%- do conditions.append(target_column ~ ' = ' ~ changes.identifier ~ '.' ~ column) -%}
        {%- endfor -%}
        {%- if where -%}
            {%- do conditions.append(changes.identifier ~ '.' ~ where) -%}
        {%- endif -%}
        delete from {{ this }}
        using {{ changes }}
        where {{ conditions | join(' and ') }}
    {%- endif -%}
{%- endmacro %}


{% macro incremental_build() -%}
    {#- is_incremental(); `dbt compile --no-introspect` (no connection) shows the incremental
        SQL. -#}
    {%- if execute and not flags.INTROSPECT -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}


{% macro changed_song_days() -%}
    {#- The rows a per-song model computes from: every chart day of the (chart, song) pairs that
        changed, or all of int_chart_song_days on a full build. When dbt parses the model, both
        refs (and the pre-hook's change table) are taken, so dbt orders the model after them. -#}
    {%- if not execute -%}
        {%- do ref('int_analytics__changed_song_days') -%}
        {%- do ref('int_analytics__changed_songs') -%}
    {%- endif -%}
    {%- if incremental_build() -%}
        {{ ref('int_analytics__changed_song_days') }}
    {%- else -%}
        {{ ref('int_chart_song_days') }}
    {%- endif -%}
{%- endmacro %}


{% macro analytics_relation(identifier) -%}
    {#- A model of the intermediate schema read without ref() (to avoid a cycle): its relation if
        it exists, else none. The state it holds is written at the end of the previous build.
        `dbt compile --no-introspect` (no connection) assumes it exists. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- elif not flags.INTROSPECT -%}
        {{ return(api.Relation.create(
            database=this.database, schema=this.schema, identifier=identifier
        )) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier=identifier
    )) }}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {#- dbt's own (a data test's `where`), with one placeholder more: __recomputed_chart_dates__,
        the chart dates this build recomputed (is_changed in int_analytics__chart_dates), or every
        row on a full refresh. A table whose rows only change on those dates is tested on them
        alone, not on its whole history at every build. dbt renders `where` when it parses,
        without the project's macros; overriding this macro is dbt's documented way round it. -#}
    {%- set where = config.get('where') or '' -%}
    {%- if '__recomputed_chart_dates__' in where -%}
        {%- set dates = recomputed_chart_dates(relation) -%}
        {%- set where = where | replace('__recomputed_chart_dates__', dates) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{% macro recomputed_chart_dates(relation) -%}
    {#- The condition on chart_date for __recomputed_chart_dates__ (int_analytics__chart_dates is
        in the same schema as the models it is used on). -#}
    {%- if flags.FULL_REFRESH -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set chart_dates = api.Relation.create(
        database=relation.database, schema=relation.schema, identifier='int_analytics__chart_dates'
    ) -%}
    {{ return('chart_date in (select chart_date from ' ~ chart_dates ~ ' where is_changed)') }}
{%- endmacro %}
