"""Every setting of the platform, once: its environment variable, type, default and meaning.

Resources, the dbt profile's environment, the command lines and the README's Configuration table
all come from `SETTINGS`; a test fails when the README and this module disagree. Values are read
with `get` (one setting) or `load` (all of them, checked) when a command or a run starts, never
when a module is imported. A bad value raises `SettingError`, one line naming the variable, its
value and what is allowed (a secret's value is never shown).

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from spotify_charts.regions import DEFAULT_REGIONS


class SettingError(ValueError):
    """A setting with a value that is not allowed; the message is one line for the user."""

    def __init__(self, setting: Setting, raw: str, allowed: str) -> None:
        shown = "(hidden)" if setting.secret else repr(raw)
        super().__init__(f"{setting.name}={shown} is not valid: {allowed}")
        self.setting = setting


def _text(raw: str) -> str:
    return raw


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"a whole number >= {minimum}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(
                f"a whole number from {minimum} to {maximum}" if maximum else f"a whole number >= {minimum}"
            )
        return value

    return parse


def _number(minimum: float, exclusive: bool = False) -> Callable[[str], float]:
    allowed = f"a number {'>' if exclusive else '>='} {minimum:g}"

    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(allowed) from None
        if value != value or value < minimum or (exclusive and value == minimum) or value == float("inf"):
            raise ValueError(allowed)
        return value

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return value

    return parse


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(raw: str) -> dt.date:
    """A date written exactly YYYY-MM-DD (not 20240301, not 2024-W10-1)."""
    if not _ISO_DATE.match(raw.strip()):
        raise ValueError("a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("a real date written YYYY-MM-DD") from None


def _url(raw: str) -> str:
    if not re.match(r"^https?://[^\s/]+", raw.strip()):
        raise ValueError("an http:// or https:// URL")
    return raw.strip().rstrip("/")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # as a user would write it; None: unset unless given
    meaning: str
    parse: Callable[[str], Any] = _text
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
            raise SettingError(self, raw, str(exc)) from None


SETTINGS: tuple[Setting, ...] = (
    # --- where charts come from
    Setting(
        "SPOTIFY_CHARTS_SOURCE",
        "sample",
        'where charts come from: `sample` (built in), `api` (the Spotify Charts service) or `csv` (the CSV downloads in `SPOTIFY_CHARTS_CSV_DIR`); see "Using real Spotify data"',
        _choice("sample", "api", "csv"),
    ),
    Setting(
        "SPOTIFY_CHARTS_REGIONS",
        ",".join(DEFAULT_REGIONS),
        "comma-separated region codes (the 73 in `spotify_charts/data/regions.csv`); each becomes the chart `regional-{code}-daily`. An unknown code stops the run before anything is fetched or written, naming it and listing the valid ones",
    ),
    Setting(
        "SPOTIFY_CHARTS_API_URL",
        "https://charts-spotify-com-service.spotify.com",
        "the charts service's base URL (tests point it at the local stand-in)",
        _url,
        default_text="the real service",
    ),
    Setting("SPOTIFY_CHARTS_TOKEN", None, "a static bearer token for the charts service", secret=True),
    Setting(
        "SPOTIFY_CLIENT_ID",
        None,
        "your Spotify developer app's client id (with the secret and a refresh token, instead of a static token)",
    ),
    Setting("SPOTIFY_CLIENT_SECRET", None, "your Spotify developer app's client secret", secret=True),
    Setting(
        "SPOTIFY_REFRESH_TOKEN",
        None,
        "a refresh token (`make token` writes it to `.env`), exchanged for access tokens when needed and on every 401",
        secret=True,
    ),
    Setting("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com", "the OAuth token endpoint's host", _url),
    Setting(
        "SPOTIFY_CHARTS_MAX_RPS",
        "1",
        "requests started per second across all charts of a run",
        _number(0, exclusive=True),
    ),
    Setting(
        "SPOTIFY_CHARTS_MAX_CONCURRENCY", "2", "requests in flight at once across all charts of a run", _integer(1, 64)
    ),
    Setting(
        "SPOTIFY_CHARTS_MAX_ATTEMPTS",
        "6",
        "requests per chart (the first and its retries) before the partition fails",
        _integer(1, 100),
    ),
    Setting(
        "SPOTIFY_CHARTS_BACKOFF_SECONDS",
        "2",
        "the first retry's wait; it doubles each retry (plus up to half of it as jitter)",
        _number(0),
    ),
    Setting(
        "SPOTIFY_CHARTS_MAX_RETRY_AFTER", "120", "the longest `Retry-After` (seconds) a 429 is waited for", _number(0)
    ),
    Setting(
        "SPOTIFY_CHARTS_TIMEOUT_SECONDS", "30", "connect and read timeout of one request", _number(0, exclusive=True)
    ),
    Setting(
        "SPOTIFY_CHARTS_CSV_DIR",
        None,
        "a folder of chart CSVs downloaded from charts.spotify.com; the `csv_exports` sensor imports new and changed files",
    ),
    # --- where files are kept
    Setting(
        "SPOTIFY_CHARTS_DATA_DIR",
        "data",
        "the local folder for raw snapshots and the dashboard (when no bucket is set), and the DuckDB file",
        default_text="`./data`",
    ),
    Setting(
        "SPOTIFY_CHARTS_S3_BUCKET",
        None,
        'keep raw snapshots and the dashboard in this S3 bucket instead of the local folder; see "Running against AWS"',
    ),
    Setting(
        "SPOTIFY_CHARTS_S3_PREFIX",
        "",
        "a key prefix inside the bucket (`prod` gives `s3://{bucket}/prod/raw/spotify-charts/...`)",
        default_text="none",
    ),
    # --- the warehouse
    Setting(
        "SPOTIFY_CHARTS_WAREHOUSE",
        "duckdb",
        'the warehouse of the staging loader, the checks, dbt and the dashboard: `duckdb`, `postgres` or `redshift` (see "Running against AWS")',
        _choice("duckdb", "postgres", "redshift"),
    ),
    Setting(
        "SPOTIFY_CHARTS_DUCKDB_PATH", None, "the DuckDB warehouse file", default_text="`{data dir}/warehouse.duckdb`"
    ),
    Setting(
        "SPOTIFY_CHARTS_PG_HOST",
        "127.0.0.1",
        "the `postgres` warehouse's host (the pipeline and dbt's target alike; the database must exist, the schemas are created)",
    ),
    Setting("SPOTIFY_CHARTS_PG_PORT", "5432", "its port", _integer(1, 65535)),
    Setting("SPOTIFY_CHARTS_PG_USER", "postgres", "its user"),
    Setting("SPOTIFY_CHARTS_PG_PASSWORD", "", "its password", secret=True, default_text="empty"),
    Setting("SPOTIFY_CHARTS_PG_DATABASE", "spotify_charts", "its database"),
    Setting("SPOTIFY_CHARTS_REDSHIFT_HOST", None, "the `redshift` warehouse's endpoint (TLS required)"),
    Setting("SPOTIFY_CHARTS_REDSHIFT_PORT", "5439", "its port", _integer(1, 65535)),
    Setting("SPOTIFY_CHARTS_REDSHIFT_USER", "spotify_charts", "the pipeline's own database user (never the admin)"),
    Setting("SPOTIFY_CHARTS_REDSHIFT_PASSWORD", "", "that user's password", secret=True, default_text="empty"),
    Setting("SPOTIFY_CHARTS_REDSHIFT_DATABASE", "spotify_charts", "its database"),
    Setting(
        "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE",
        None,
        "ARN of the IAM role Redshift assumes to COPY the loader's Parquet files from the bucket (`SPOTIFY_CHARTS_S3_BUCKET` is required with `redshift`)",
    ),
    # --- keeping current
    Setting(
        "SPOTIFY_CHARTS_START_DATE",
        None,
        "the first chart date (YYYY-MM-DD) the `new_chart_dates` sensor keeps loaded",
        parse_date,
        default_text="the last 30 days",
    ),
    Setting(
        "SPOTIFY_CHARTS_SCHEDULE_CRON",
        "0 23 * * *",
        "when the safety-net schedule runs (UTC); read when the code location loads",
    ),
    Setting("SPOTIFY_CHARTS_ALERT_WEBHOOK", None, "a URL to POST run failures to as JSON", _url, secret=True),
    # --- the Dagster instance
    Setting(
        "SPOTIFY_CHARTS_KEEP_FAILED_RUNS_DAYS",
        "30",
        "failed and canceled runs (and their event logs) are deleted from the Dagster instance this many days after they ended, by `make demo` and the `dead_runs` sensor; `0` keeps them. Successful runs are kept (they are the assets' history)",
        _integer(0),
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def get(name: str, env: Mapping[str, str] | None = None) -> Any:
    """One setting's parsed value (SettingError for a bad one); KeyError for a name not in SETTINGS."""
    return BY_NAME[name].read(env)


def load(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting's parsed value; SettingError for the first bad one."""
    return {setting.name: setting.read(env) for setting in SETTINGS}


def markdown_table() -> str:
    """The README's Configuration table, made from SETTINGS."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.default_text or (f"`{setting.default}`" if setting.default else "none")
        rows.append(f"| `{setting.name}` | {default} | {setting.meaning} |")
    return "\n".join(rows)
