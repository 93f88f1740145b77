"""The warehouses that hold the staging tables and dbt's models: `base` (what each does),
`duckdb` (default), `postgres`, `redshift`. Plain package (no Dagster import)."""
