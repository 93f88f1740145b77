"""The warehouses that hold the staging tables and dbt's models: `base` (what each does),
`duckdb` (default), `postgres`, `redshift`. Plain package (no Dagster import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotify_charts import settings

if TYPE_CHECKING:
    from spotify_charts.warehouses.base import Warehouse


def from_settings(values: settings.Values) -> Warehouse:
    """The warehouse the settings name (`settings.load()` has checked them), ready to connect."""
    kind = values[settings.WAREHOUSE]
    if kind == "duckdb":
        from spotify_charts.warehouses.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(
            values.duckdb_path,
            memory_limit=values[settings.DUCKDB_MEMORY_LIMIT],
            threads=values[settings.DUCKDB_THREADS],
            temp_directory=values.duckdb_temp_dir,
        )
    if kind == "postgres":
        from spotify_charts.warehouses.postgres import PostgresWarehouse

        return PostgresWarehouse(
            values[settings.PG_HOST],
            values[settings.PG_PORT],
            values[settings.PG_USER],
            values[settings.PG_PASSWORD],
            values[settings.PG_DATABASE],
        )
    from spotify_charts.storage import from_settings as store_from_settings
    from spotify_charts.warehouses.redshift import RedshiftWarehouse

    return RedshiftWarehouse(
        values[settings.REDSHIFT_HOST],
        values[settings.REDSHIFT_PORT],
        values[settings.REDSHIFT_USER],
        values[settings.REDSHIFT_PASSWORD],
        values[settings.REDSHIFT_DATABASE],
        store_from_settings(values),
        values[settings.REDSHIFT_IAM_ROLE],
        ca_bundle=values[settings.REDSHIFT_CA_BUNDLE],
    )
