"""dbt's `exceptions` Jinja namespace, for sqlfluff's Jinja templater (lint only).

sqlfluff's stand-in `var()` returns a placeholder, so guards on var values must not fire here.
"""


def raise_compiler_error(message: str) -> str:
    return ""
