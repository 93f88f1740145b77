"""Every setting of the platform, once: its environment variable, type, default and meaning.

Each setting is a module constant (`SOURCE`, `PG_HOST`, ...); other modules name a variable only
through them (`settings.CSV_DIR.name`), so the `SPOTIFY_*` names are written here alone (and in
`dbt/profiles.yml`, whose defaults a test keeps equal to these). The resources, the dbt profile's
values, the command lines and the README's Configuration table (`markdown_table`, checked by a
test) all come from `SETTINGS`.

When they are read: `load()` parses and checks every setting at once, when a command starts (the
CLI, before it launches anything) and when each step of a Dagster run starts (the resources call
it), never when a module is imported. The one exception is `SCHEDULE_CRON`, which Dagster needs
when the code location loads. A bad value raises `SettingError`: one line naming the variable, its
value (a secret's is never shown) and what is allowed.

Plain module (no Dagster import).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotify_charts.regions import DEFAULT_REGIONS, daily_alias
from spotify_charts.settings import parsers
from spotify_charts.settings.parsers import parse_date


class SettingError(ValueError):
    """A setting (or a combination) that is not allowed; the message is one line for the user."""

    def __init__(self, message: str, setting: Setting | None = None) -> None:
        super().__init__(message)
        self.setting = setting

    @classmethod
    def invalid(cls, setting: Setting, raw: str, allowed: str) -> SettingError:
        shown = "(hidden)" if setting.secret else repr(raw)
        return cls(f"{setting.name}={shown} is not valid: {allowed}", setting)


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # as a user would write it; None: unset unless given
    meaning: str
    parse: Callable[[str], Any] = parsers.text
    secret: bool = False
    default_text: str | None = None  # how the README shows the default, when not the value itself

    def read(self, env: Mapping[str, str] | None = None) -> Any:
        """The parsed value from `env` (default: the process environment), else the parsed default."""
        env = os.environ if env is None else env
        raw = env.get(self.name)
        if raw is None or raw == "":
            return None if self.default is None else self.parse(self.default)
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise SettingError.invalid(self, raw, str(exc)) from None


# --- where charts come from
SOURCE = Setting(
    "SPOTIFY_CHARTS_SOURCE",
    "sample",
    'where charts come from: `sample` (built in), `api` (the Spotify Charts service) or `csv` (the CSV downloads in `SPOTIFY_CHARTS_CSV_DIR`); see "Using real Spotify data"',
    parsers.choice("sample", "api", "csv"),
)
REGIONS = Setting(
    "SPOTIFY_CHARTS_REGIONS",
    ",".join(DEFAULT_REGIONS),
    "comma-separated region codes (the 73 in `spotify_charts/data/regions.csv`); each becomes the chart `regional-{code}-daily`. An unknown code stops the command or run before anything is fetched or written, naming it and listing the valid ones",
    parsers.regions,
)
API_URL = Setting(
    "SPOTIFY_CHARTS_API_URL",
    "https://charts-spotify-com-service.spotify.com",
    "the charts service's base URL (tests point it at the local stand-in)",
    parsers.url,
    default_text="the real service",
)
TOKEN = Setting("SPOTIFY_CHARTS_TOKEN", None, "a static bearer token for the charts service", secret=True)
CLIENT_ID = Setting(
    "SPOTIFY_CLIENT_ID",
    None,
    "your Spotify developer app's client id (with the secret and a refresh token, instead of a static token)",
)
CLIENT_SECRET = Setting("SPOTIFY_CLIENT_SECRET", None, "your Spotify developer app's client secret", secret=True)
REFRESH_TOKEN = Setting(
    "SPOTIFY_REFRESH_TOKEN",
    None,
    "a refresh token (`make token` writes it to `.env`), exchanged for access tokens when needed and on every 401",
    secret=True,
)
ACCOUNTS_URL = Setting(
    "SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com", "the OAuth token endpoint's host", parsers.url
)
MAX_RPS = Setting(
    "SPOTIFY_CHARTS_MAX_RPS",
    "1",
    "requests started per second across all charts of a run",
    parsers.number(0, exclusive=True),
)
MAX_CONCURRENCY = Setting(
    "SPOTIFY_CHARTS_MAX_CONCURRENCY",
    "2",
    "requests in flight at once across all charts of a run",
    parsers.integer(1, 64),
)
MAX_ATTEMPTS = Setting(
    "SPOTIFY_CHARTS_MAX_ATTEMPTS",
    "6",
    "requests per chart (the first and its retries) before the partition fails",
    parsers.integer(1, 100),
)
BACKOFF_SECONDS = Setting(
    "SPOTIFY_CHARTS_BACKOFF_SECONDS",
    "2",
    "the first retry's wait; it doubles each retry (plus up to half of it as jitter)",
    parsers.number(0),
)
MAX_RETRY_AFTER = Setting(
    "SPOTIFY_CHARTS_MAX_RETRY_AFTER",
    "120",
    "the longest `Retry-After` (seconds) a 429 is waited for",
    parsers.number(0),
)
TIMEOUT_SECONDS = Setting(
    "SPOTIFY_CHARTS_TIMEOUT_SECONDS", "30", "connect and read timeout of one request", parsers.number(0, exclusive=True)
)
CSV_DIR = Setting(
    "SPOTIFY_CHARTS_CSV_DIR",
    None,
    "a folder of chart CSVs downloaded from charts.spotify.com; the `csv_exports` sensor imports new and changed files",
)
# --- where files are kept
DATA_DIR = Setting(
    "SPOTIFY_CHARTS_DATA_DIR",
    "data",
    "the local folder for raw snapshots and the dashboard (when no bucket is set), the DuckDB file and its spill folder; it must be writable (checked before anything runs)",
    parsers.path,
    default_text="`./data`",
)
S3_BUCKET = Setting(
    "SPOTIFY_CHARTS_S3_BUCKET",
    None,
    'keep raw snapshots and the dashboard in this S3 bucket instead of the local folder; see "Running against AWS"',
)
S3_PREFIX = Setting(
    "SPOTIFY_CHARTS_S3_PREFIX",
    "",
    "a key prefix inside the bucket (`prod` gives `s3://{bucket}/prod/raw/spotify-charts/...`)",
    default_text="none",
)
# --- the warehouse
WAREHOUSES = ("duckdb", "postgres", "redshift")  # each a module of spotify_charts/warehouses/
WAREHOUSE = Setting(
    "SPOTIFY_CHARTS_WAREHOUSE",
    "duckdb",
    'the warehouse of the staging loader, the checks, dbt (its target) and the dashboard: `duckdb`, `postgres` or `redshift` (see "Running against AWS")',
    parsers.choice(*WAREHOUSES),
)
DUCKDB_PATH = Setting(
    "SPOTIFY_CHARTS_DUCKDB_PATH",
    None,
    "the DuckDB warehouse file",
    parsers.path,
    default_text="`{data dir}/warehouse.duckdb`",
)
DUCKDB_MEMORY_LIMIT = Setting(
    "SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT",
    "1.5GB",
    "DuckDB's `memory_limit` in every DuckDB connection the pipeline opens (loader, checks, dashboard) and in dbt's: beyond it DuckDB spills to `SPOTIFY_CHARTS_DUCKDB_TEMP_DIR` instead of growing (DuckDB's own default is 80% of the machine's memory). The staging step (the loader and its checks) gives DuckDB 80% of it, as its process also holds the loader's parsed batches. The default keeps every process under 2 GB at 26 million entries, dbt as fast as with 2GB (BENCHMARKS.md); `4GB`, `512MB` or a share such as `25%`",
    parsers.memory,
)
DUCKDB_THREADS = Setting(
    "SPOTIFY_CHARTS_DUCKDB_THREADS",
    None,
    "DuckDB's `threads` in the same connections (fewer threads also need less memory); the staging loader's inserts use one thread whatever this says, as its two parser threads already keep two cores busy",
    parsers.integer(1, 1024),
    default_text="DuckDB's default (one per CPU core)",
)
DUCKDB_TEMP_DIR = Setting(
    "SPOTIFY_CHARTS_DUCKDB_TEMP_DIR",
    None,
    "DuckDB's `temp_directory`, where it spills what does not fit in the memory limit (created when first needed)",
    parsers.path,
    default_text="`{data dir}/duckdb_temp`",
)
PG_HOST = Setting(
    "SPOTIFY_CHARTS_PG_HOST",
    "127.0.0.1",
    "the `postgres` warehouse's host (the pipeline and dbt's target alike; the database must exist, the schemas are created)",
)
PG_PORT = Setting("SPOTIFY_CHARTS_PG_PORT", "5432", "its port", parsers.integer(1, 65535))
PG_USER = Setting("SPOTIFY_CHARTS_PG_USER", "postgres", "its user")
PG_PASSWORD = Setting("SPOTIFY_CHARTS_PG_PASSWORD", "", "its password", secret=True, default_text="empty")
PG_DATABASE = Setting("SPOTIFY_CHARTS_PG_DATABASE", "spotify_charts", "its database")
REDSHIFT_HOST = Setting(
    "SPOTIFY_CHARTS_REDSHIFT_HOST",
    None,
    "the `redshift` warehouse's endpoint (needed with `redshift`; TLS that verifies the server's certificate and name, `verify-full`)",
)
REDSHIFT_PORT = Setting("SPOTIFY_CHARTS_REDSHIFT_PORT", "5439", "its port", parsers.integer(1, 65535))
REDSHIFT_USER = Setting(
    "SPOTIFY_CHARTS_REDSHIFT_USER", "spotify_charts", "the pipeline's own database user (never the admin)"
)
REDSHIFT_PASSWORD = Setting(
    "SPOTIFY_CHARTS_REDSHIFT_PASSWORD", "", "that user's password", secret=True, default_text="empty"
)
REDSHIFT_DATABASE = Setting("SPOTIFY_CHARTS_REDSHIFT_DATABASE", "spotify_charts", "its database")
REDSHIFT_IAM_ROLE = Setting(
    "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE",
    None,
    "ARN of the IAM role Redshift assumes to COPY the loader's Parquet files from the bucket (needed with `redshift`, and so is `SPOTIFY_CHARTS_S3_BUCKET`)",
    parsers.arn,
)
REDSHIFT_CA_BUNDLE = Setting(
    "SPOTIFY_CHARTS_REDSHIFT_CA_BUNDLE",
    None,
    "the CA bundle (PEM file) the loader verifies Redshift's certificate against; dbt's `redshift` target verifies against the same bundle inside its driver",
    parsers.path,
    default_text="AWS's bundle shipped with `redshift_connector`",
)
# --- keeping current
START_DATE = Setting(
    "SPOTIFY_CHARTS_START_DATE",
    None,
    "the first chart date (YYYY-MM-DD) the `new_chart_dates` sensor keeps loaded",
    parse_date,
    default_text="the last 30 days",
)
SCHEDULE_CRON = Setting(
    "SPOTIFY_CHARTS_SCHEDULE_CRON",
    "0 23 * * *",
    "when the safety-net schedule runs (UTC); read when the code location loads",
    parsers.cron,
)
ALERT_WEBHOOK = Setting(
    "SPOTIFY_CHARTS_ALERT_WEBHOOK", None, "a URL to POST run failures to as JSON", parsers.url, secret=True
)
SIGNALS_WEBHOOK = Setting(
    "SPOTIFY_CHARTS_SIGNALS_WEBHOOK",
    None,
    "a URL to POST each chart date's song signals to as JSON (Slack-style: a `text` summary plus the rows), once per date, by the `song_signals_webhook` sensor (docs/signals.md)",
    parsers.url,
    secret=True,
)
SIGNALS_REGIONS = Setting(
    "SPOTIFY_CHARTS_SIGNALS_REGIONS",
    None,
    "comma-separated region codes whose charts' signals the message carries",
    parsers.regions,
    default_text="every loaded chart",
)
SIGNALS_HORIZON_DAYS = Setting(
    "SPOTIFY_CHARTS_SIGNALS_HORIZON_DAYS",
    "3",
    "the webhook gets chart dates at most this many days before today (UTC); older dates, such as a backfill's, are never posted",
    parsers.integer(0, 3650),
)
# --- the Dagster instance
KEEP_FAILED_RUNS_DAYS = Setting(
    "SPOTIFY_CHARTS_KEEP_FAILED_RUNS_DAYS",
    "30",
    "failed and canceled runs (and their event logs) are deleted from the Dagster instance this many days after they ended, by `make demo` and the `dead_runs` sensor; `0` keeps them. Successful runs are kept (they are the assets' history)",
    parsers.integer(0),
)

# Every setting, in the order above (the README's table follows it).
SETTINGS: tuple[Setting, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Setting))

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


class Values(Mapping[str, Any]):
    """Every setting's parsed value, by setting (`values[settings.PG_HOST]`) or by name."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: Setting | str) -> Any:
        return self._values[key.name if isinstance(key, Setting) else key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never a secret's value
        shown = {s.name: ("(hidden)" if s.secret and self._values[s.name] else self._values[s.name]) for s in SETTINGS}
        return f"Values({shown})"

    # Values the pipeline derives from others, in one place.
    @property
    def data_dir(self) -> Path:
        return self[DATA_DIR]

    @property
    def duckdb_path(self) -> Path:
        return self[DUCKDB_PATH] or self.data_dir / "warehouse.duckdb"

    @property
    def duckdb_temp_dir(self) -> Path:
        return self[DUCKDB_TEMP_DIR] or self.data_dir / "duckdb_temp"

    @property
    def aliases(self) -> list[str]:
        return [daily_alias(code) for code in self[REGIONS]]


def get(setting: Setting | str, env: Mapping[str, str] | None = None) -> Any:
    """One setting's parsed value (SettingError for a bad one); KeyError for a name not in SETTINGS."""
    return (setting if isinstance(setting, Setting) else BY_NAME[setting]).read(env)


def parse(env: Mapping[str, str] | None = None) -> Values:
    """Every setting parsed and range-checked, and the combinations checked; nothing on disk is touched."""
    values = Values({setting.name: setting.read(env) for setting in SETTINGS})
    _check_combinations(values)
    return values


def load(env: Mapping[str, str] | None = None) -> Values:
    """`parse`, then the folders the pipeline will write checked for writability: what a command
    or a run step calls when it starts. SettingError for the first problem."""
    values = parse(env)
    _check_folders(values)
    return values


def _check_combinations(values: Values) -> None:
    if values[SOURCE] == "api" and not (
        values[TOKEN] or (values[CLIENT_ID] and values[CLIENT_SECRET] and values[REFRESH_TOKEN])
    ):
        raise SettingError(
            f"{SOURCE.name}=api needs {TOKEN.name}, or {CLIENT_ID.name}, {CLIENT_SECRET.name} and "
            f"{REFRESH_TOKEN.name} (README, Using real Spotify data)",
            SOURCE,
        )
    if values[SOURCE] == "csv" and not values[CSV_DIR]:
        raise SettingError(f"{SOURCE.name}=csv needs {CSV_DIR.name}, the folder of chart CSVs", SOURCE)
    if values[WAREHOUSE] == "redshift":
        missing = [s.name for s in (REDSHIFT_HOST, REDSHIFT_IAM_ROLE, S3_BUCKET) if not values[s]]
        if missing:
            raise SettingError(
                f"{WAREHOUSE.name}=redshift needs {', '.join(missing)} (README, Running against AWS)", WAREHOUSE
            )
    bucket = values[S3_BUCKET]
    if bucket is not None and ("/" in bucket or not bucket.strip()):
        raise SettingError.invalid(S3_BUCKET, bucket, "a bucket name without '/' (give the prefix separately)")


def _check_folders(values: Values) -> None:
    """The local folders this configuration writes to can be written (or created) now, not 8 s
    into a run: the data folder (snapshots, dashboard) without a bucket, DuckDB's file and spill
    folder with the `duckdb` warehouse."""
    if not values[S3_BUCKET]:
        _writable(DATA_DIR, values.data_dir)
    if values[WAREHOUSE] == "duckdb":
        _writable(DUCKDB_PATH if values[DUCKDB_PATH] else DATA_DIR, values.duckdb_path.parent)
        _writable(DUCKDB_TEMP_DIR if values[DUCKDB_TEMP_DIR] else DATA_DIR, values.duckdb_temp_dir)


def _writable(setting: Setting, folder: Path) -> None:
    problem = parsers.folder_problem(folder)
    if problem:
        raise SettingError(f"{setting.name}: {problem}; set it to a folder this user can write", setting)


def markdown_table() -> str:
    """The README's Configuration table, made from SETTINGS."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.default_text or (f"`{setting.default}`" if setting.default else "none")
        rows.append(f"| `{setting.name}` | {default} | {setting.meaning} |")
    return "\n".join(rows)
