"""Dagster resources: the chart source, the raw store and the warehouse, chosen in one place.

`build_resources` is that place: it reads which implementations the environment asks for and
wires each setting to its environment variable with `dg.EnvVar`, so values are resolved at run
time and secrets are never shown in the UI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_dbt import DbtCliResource

from spotify_charts.defs.dbt_project import dbt_executable, dbt_project
from spotify_charts.regions import DEFAULT_REGIONS, daily_alias, parse_regions
from spotify_charts.sources import ChartSource, make_source
from spotify_charts.sources.api import DEFAULT_ACCOUNTS_URL, DEFAULT_API_URL, ChartsApiSource, RefreshingToken
from spotify_charts.sources.csv_export import CsvExportSource
from spotify_charts.storage import FileStore
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts.warehouses.base import Warehouse
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts.warehouses.postgres import PostgresWarehouse
from spotify_charts.warehouses.redshift import RedshiftWarehouse

DEFAULT_DATA_DIR = "data"


class ChartSourceResource(dg.ConfigurableResource):
    """Which charts to collect (region codes) and where to get them from.

    Secrets (token, client secret, refresh token) are set from `dg.EnvVar`s: the UI and run
    config show the variables' names, never their values."""

    source: str = "sample"
    regions: str = ",".join(DEFAULT_REGIONS)
    api_url: str = DEFAULT_API_URL
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    max_rps: float = 1.0
    max_concurrency: int = 2
    max_attempts: int = 6
    backoff_seconds: float = 2.0
    max_retry_after_seconds: float = 120.0
    timeout_seconds: float = 30.0
    csv_dir: str | None = None

    def require_csv_dir(self) -> str:
        """The folder of chart CSV downloads; ValueError when SPOTIFY_CHARTS_CSV_DIR is not set."""
        if not self.csv_dir:
            raise ValueError("chart CSVs are read from SPOTIFY_CHARTS_CSV_DIR, which is not set")
        return self.csv_dir

    def aliases(self) -> list[str]:
        """The configured charts' aliases; RegionConfigError for an unknown region code."""
        return [daily_alias(code) for code in parse_regions(self.regions)]

    def get_source(self) -> ChartSource:
        if self.source == "csv":
            return CsvExportSource(self.require_csv_dir())
        if self.source != "api":
            return make_source(self.source)
        if self.token:
            tokens = self.token
        elif self.client_id and self.client_secret and self.refresh_token:
            tokens = RefreshingToken(self.client_id, self.client_secret, self.refresh_token, self.accounts_url)
        else:
            raise ValueError(
                "SPOTIFY_CHARTS_SOURCE=api needs SPOTIFY_CHARTS_TOKEN, or SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET "
                "and SPOTIFY_REFRESH_TOKEN (README, Using real Spotify data)"
            )
        return ChartsApiSource(
            tokens,
            self.api_url,
            max_rps=self.max_rps,
            max_concurrency=self.max_concurrency,
            attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            timeout_seconds=self.timeout_seconds,
        )


class FileStoreResource(dg.ConfigurableResource):
    """Where raw snapshots (and other files the platform publishes) are kept."""

    def get_store(self) -> FileStore:
        raise NotImplementedError


class LocalFileStoreResource(FileStoreResource):
    data_dir: str = DEFAULT_DATA_DIR

    def get_store(self) -> FileStore:
        return LocalFileStore(self.data_dir)


class S3FileStoreResource(FileStoreResource):
    """Raw snapshots and the dashboard as objects in an S3 bucket (the production path).

    Credentials, region and endpoint come from boto3's usual chain (environment, profile, the
    task's IAM role; `AWS_ENDPOINT_URL_S3` for an S3-compatible server), never from run config."""

    bucket: str
    prefix: str = ""
    s3: S3Resource

    def get_store(self) -> S3FileStore:
        return S3FileStore(self.s3.get_client(), self.bucket, self.prefix)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse holding the staging tables and dbt's models."""

    def get_warehouse(self) -> Warehouse:
        raise NotImplementedError

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        """Point dbt's profile at this warehouse while dbt is started in this block.

        dbt runs in a subprocess that inherits this process's environment.
        """
        patch = self.get_warehouse().dbt_env()
        saved = {name: os.environ.get(name) for name in patch}
        os.environ.update(patch)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class DuckDBWarehouseResource(WarehouseResource):
    path: str = str(Path(DEFAULT_DATA_DIR) / "warehouse.duckdb")

    def get_warehouse(self) -> DuckDBWarehouse:
        return DuckDBWarehouse(self.path)


class PostgresWarehouseResource(WarehouseResource):
    """Staging tables and dbt's models in PostgreSQL (the password from a `dg.EnvVar`, never shown)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "spotify_charts"

    def get_warehouse(self) -> PostgresWarehouse:
        return PostgresWarehouse(self.host, self.port, self.user, self.password, self.database)


class RedshiftWarehouseResource(WarehouseResource):
    """Staging tables and dbt's models in Amazon Redshift, loaded by COPY from the S3 bucket."""

    host: str
    port: int = 5439
    user: str = "spotify_charts"
    password: str = ""
    database: str = "spotify_charts"
    iam_role: str
    loads: S3FileStoreResource

    def get_warehouse(self) -> RedshiftWarehouse:
        return RedshiftWarehouse(
            self.host, self.port, self.user, self.password, self.database, self.loads.get_store(), self.iam_role
        )


def _setting(env: Mapping[str, str], name: str, default: str | None) -> str | dg.EnvVar | None:
    """The variable as a `dg.EnvVar` when it is set (resolved at run time), else the default."""
    return dg.EnvVar(name) if env.get(name) else default


def _file_store(env: Mapping[str, str]) -> FileStoreResource:
    """S3 when SPOTIFY_CHARTS_S3_BUCKET is set, else the local data folder."""
    if env.get("SPOTIFY_CHARTS_S3_BUCKET"):
        return S3FileStoreResource(
            bucket=dg.EnvVar("SPOTIFY_CHARTS_S3_BUCKET"),
            prefix=_setting(env, "SPOTIFY_CHARTS_S3_PREFIX", ""),
            s3=S3Resource(),
        )
    return LocalFileStoreResource(data_dir=_setting(env, "SPOTIFY_CHARTS_DATA_DIR", DEFAULT_DATA_DIR))


# Redshift loads by COPY from the bucket, so it needs one, and the role the cluster reads it with.
REDSHIFT_REQUIRED = ("SPOTIFY_CHARTS_REDSHIFT_HOST", "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE", "SPOTIFY_CHARTS_S3_BUCKET")


def _warehouse(env: Mapping[str, str], data_dir: str) -> WarehouseResource:
    """The warehouse SPOTIFY_CHARTS_WAREHOUSE names: duckdb (default), postgres or redshift."""
    kind = env.get("SPOTIFY_CHARTS_WAREHOUSE") or "duckdb"
    if kind == "duckdb":
        return DuckDBWarehouseResource(
            path=_setting(env, "SPOTIFY_CHARTS_DUCKDB_PATH", str(Path(data_dir) / "warehouse.duckdb"))
        )
    if kind == "postgres":
        return PostgresWarehouseResource(
            host=_setting(env, "SPOTIFY_CHARTS_PG_HOST", "127.0.0.1"),
            port=int(env.get("SPOTIFY_CHARTS_PG_PORT") or 5432),
            user=_setting(env, "SPOTIFY_CHARTS_PG_USER", "postgres"),
            password=_setting(env, "SPOTIFY_CHARTS_PG_PASSWORD", ""),
            database=_setting(env, "SPOTIFY_CHARTS_PG_DATABASE", "spotify_charts"),
        )
    if kind == "redshift":
        missing = [n for n in REDSHIFT_REQUIRED if not env.get(n)]
        if missing:
            raise ValueError(
                f"SPOTIFY_CHARTS_WAREHOUSE=redshift needs {', '.join(missing)} (README, Running against AWS)"
            )
        return RedshiftWarehouseResource(
            host=dg.EnvVar("SPOTIFY_CHARTS_REDSHIFT_HOST"),
            port=int(env.get("SPOTIFY_CHARTS_REDSHIFT_PORT") or 5439),
            user=_setting(env, "SPOTIFY_CHARTS_REDSHIFT_USER", "spotify_charts"),
            password=_setting(env, "SPOTIFY_CHARTS_REDSHIFT_PASSWORD", ""),
            database=_setting(env, "SPOTIFY_CHARTS_REDSHIFT_DATABASE", "spotify_charts"),
            iam_role=dg.EnvVar("SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE"),
            loads=_file_store(env),
        )
    raise ValueError(f"SPOTIFY_CHARTS_WAREHOUSE={kind!r} is not supported; valid: duckdb, postgres, redshift")


def build_resources(env: Mapping[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources for the environment's settings (see README, Configuration)."""
    env = os.environ if env is None else env
    data_dir = env.get("SPOTIFY_CHARTS_DATA_DIR") or DEFAULT_DATA_DIR
    return {
        "chart_source": ChartSourceResource(
            source=_setting(env, "SPOTIFY_CHARTS_SOURCE", "sample"),
            regions=_setting(env, "SPOTIFY_CHARTS_REGIONS", ",".join(DEFAULT_REGIONS)),
            api_url=_setting(env, "SPOTIFY_CHARTS_API_URL", DEFAULT_API_URL),
            token=_setting(env, "SPOTIFY_CHARTS_TOKEN", None),
            client_id=_setting(env, "SPOTIFY_CLIENT_ID", None),
            client_secret=_setting(env, "SPOTIFY_CLIENT_SECRET", None),
            refresh_token=_setting(env, "SPOTIFY_REFRESH_TOKEN", None),
            accounts_url=_setting(env, "SPOTIFY_ACCOUNTS_URL", DEFAULT_ACCOUNTS_URL),
            max_rps=float(env.get("SPOTIFY_CHARTS_MAX_RPS") or 1.0),
            max_concurrency=int(env.get("SPOTIFY_CHARTS_MAX_CONCURRENCY") or 2),
            max_attempts=int(env.get("SPOTIFY_CHARTS_MAX_ATTEMPTS") or 6),
            backoff_seconds=float(env.get("SPOTIFY_CHARTS_BACKOFF_SECONDS") or 2.0),
            max_retry_after_seconds=float(env.get("SPOTIFY_CHARTS_MAX_RETRY_AFTER") or 120.0),
            timeout_seconds=float(env.get("SPOTIFY_CHARTS_TIMEOUT_SECONDS") or 30.0),
            csv_dir=_setting(env, "SPOTIFY_CHARTS_CSV_DIR", None),
        ),
        "file_store": _file_store(env),
        "warehouse": _warehouse(env, data_dir),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
