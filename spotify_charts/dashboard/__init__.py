"""The dashboard page: `data` (what it reads), `svg` (plots and tables), `page` (the HTML).
Plain package (no Dagster import)."""
