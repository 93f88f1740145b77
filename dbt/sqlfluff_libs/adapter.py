"""dbt's `adapter` Jinja object, for sqlfluff's Jinja templater (lint only).

`adapter.dispatch(name)` renders a plain call `name(args)`: the linter checks the models' own SQL,
not each warehouse's expansion (dbt compiles those; tests build them on DuckDB and PostgreSQL).
"""


def dispatch(macro_name: str, macro_namespace: str | None = None):
    def render(*args) -> str:
        return f"{macro_name}({', '.join(str(a) for a in args)})"

    return render
