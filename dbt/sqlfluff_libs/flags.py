"""dbt's `flags` Jinja object, for sqlfluff's Jinja templater (lint only): a plain incremental build."""

FULL_REFRESH = False
INTROSPECT = True
