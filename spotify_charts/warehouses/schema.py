"""The staging tables' columns, once: name, type and meaning, in table order.

The parser's Arrow schemas (`snapshots.arrow`) and every warehouse's `create table` (`base`) are
made from `TABLES`; `dbt/models/staging/_spotify__sources.yml` lists the same columns with the same
descriptions, and a test keeps dbt's, Arrow's and each warehouse's columns equal. Changing a
column means changing it here (and in the yml, which the test then asks for).

Plain module (no Dagster import).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from spotify_charts import settings

STAGING_SCHEMA = "staging"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of TYPES' keys
    description: str


# The logical types, as Arrow holds them and as each warehouse declares them. Redshift's text is
# varchar(256), so strings get the maximum; timestamps arrive in its Parquet without a zone (UTC).
TYPES: dict[str, dict[str, object]] = {
    "text": {"arrow": pa.string(), "duckdb": "varchar", "postgres": "text", "redshift": "varchar(65535)"},
    "date": {"arrow": pa.date32(), "duckdb": "date", "postgres": "date", "redshift": "date"},
    "int32": {"arrow": pa.int32(), "duckdb": "integer", "postgres": "integer", "redshift": "integer"},
    "int64": {"arrow": pa.int64(), "duckdb": "bigint", "postgres": "bigint", "redshift": "bigint"},
    "timestamp_utc": {
        "arrow": pa.timestamp("us", tz="UTC"),
        "duckdb": "timestamp with time zone",
        "postgres": "timestamp with time zone",
        "redshift": "timestamp",
    },
}
WAREHOUSE_KINDS = settings.WAREHOUSES  # the warehouses the setting accepts: each has its types above

_KEY = (
    Column("chart_id", "text", "The chart's alias, e.g. regional-global-daily."),
    Column("chart_date", "date", "The chart's date."),
    Column("rank", "int32", "The entry's rank on that chart and date (1 is the top)."),
    Column("track_id", "text", "The id part of the track URI (spotify:track:{id})."),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "chart_entries": (
        *_KEY,
        Column("track_name", "text", "The track's name as the chart listed it."),
        Column("artist_names", "text", 'The credited artists\' names, joined by ", " in credit order.'),
        Column("streams", "int64", "The entry's streams; null when the chart does not rank by streams."),
        Column("previous_rank", "int32", "The rank the day before; null when the entry is new."),
        Column("peak_rank", "int32", "The best rank the track has had on this chart."),
        Column("peak_date", "date", "The date of that best rank."),
        Column("appearances_on_chart", "int32", "Days the track has been on this chart."),
        Column("consecutive_appearances_on_chart", "int32", "Days in a row the track has been on this chart."),
        Column("entry_status", "text", "The service's status of the entry (NEW_ENTRY, MOVED_UP, ...)."),
        Column("entry_rank", "int32", "The rank on the track's first day on this chart."),
        Column("entry_date", "date", "The track's first day on this chart."),
        Column("release_date", "date", "The track's release date; null when absent or not a full date."),
        Column("label_names", "text", 'The labels\' names, joined by ", ".'),
        Column("image_url", "text", "The cover image's URL."),
        Column("source", "text", "Where the chart came from: sample, api or csv."),
        Column("loaded_at", "timestamp_utc", "When the row was loaded (UTC)."),
    ),
    "chart_entry_artists": (
        *_KEY,
        Column("artist_position", "int32", "The artist's place in the credits, from 1."),
        Column("artist_id", "text", "The id part of the artist URI; null when the source has none (CSV)."),
        Column("artist_name", "text", "The artist's name."),
    ),
}


def arrow_schema(table: str) -> pa.Schema:
    """The table's columns as the parser builds them."""
    return pa.schema([(column.name, TYPES[column.type]["arrow"]) for column in TABLES[table]])


def create_table_sql(table: str, warehouse: str, name: str | None = None) -> str:
    """The table's `create table if not exists` in a warehouse's types (duckdb, postgres, redshift),
    under its own name or `name` (a table of the same columns, such as a load's incoming rows)."""
    columns = ",\n    ".join(f"{column.name} {TYPES[column.type][warehouse]}" for column in TABLES[table])
    return f"create table if not exists {STAGING_SCHEMA}.{name or table} (\n    {columns}\n)"
