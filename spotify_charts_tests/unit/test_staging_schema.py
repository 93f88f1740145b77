"""The staging schema once (warehouses/schema.py): dbt's source columns, the parser's Arrow schemas
and each warehouse's `create table` list the same columns, in the same order, with the same types."""

from __future__ import annotations

import json

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from spotify_charts.defs.dbt_project import dbt_project
from spotify_charts.snapshots.arrow import CHART_ENTRIES_SCHEMA, CHART_ENTRY_ARTISTS_SCHEMA
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts.warehouses.schema import TABLES, TYPES, WAREHOUSE_KINDS, create_table_sql

NAMES = {table: [column.name for column in columns] for table, columns in TABLES.items()}


def test_dbt_sources_list_the_columns_with_their_meaning():
    manifest = json.loads(dbt_project.manifest_path.read_text())
    sources = {s["name"]: s for s in manifest["sources"].values() if s["source_name"] == "spotify"}
    assert set(sources) == set(TABLES)
    for table, columns in TABLES.items():
        declared = sources[table]["columns"]
        assert list(declared) == NAMES[table], table
        assert [declared[c.name]["description"] for c in columns] == [c.description for c in columns], table


def test_the_parsers_arrow_schemas_are_the_tables_columns():
    for table, schema in (("chart_entries", CHART_ENTRIES_SCHEMA), ("chart_entry_artists", CHART_ENTRY_ARTISTS_SCHEMA)):
        assert schema.names == NAMES[table]
        assert [field.type for field in schema] == [TYPES[c.type]["arrow"] for c in TABLES[table]]


@pytest.mark.parametrize("warehouse", WAREHOUSE_KINDS)
def test_each_warehouses_ddl_declares_the_tables_columns(warehouse):
    dialect = {"duckdb": "duckdb", "postgres": "postgres", "redshift": "redshift"}[warehouse]
    for table, columns in TABLES.items():
        create = sqlglot.parse_one(create_table_sql(table, warehouse), read=dialect)
        declared = [(d.name, d.args["kind"].sql(dialect=dialect).lower()) for d in create.find_all(exp.ColumnDef)]
        assert [name for name, _ in declared] == NAMES[table]
        expected = [sqlglot.exp.DataType.build(str(TYPES[c.type][warehouse]), dialect=dialect) for c in columns]
        assert [kind for _, kind in declared] == [e.sql(dialect=dialect).lower() for e in expected], table


def test_duckdb_creates_exactly_those_columns(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as con:
        warehouse.ensure_tables(con)
    for table, columns in TABLES.items():
        rows = warehouse.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = ? order by ordinal_position",
            [table],
        )
        with duckdb.connect() as plain:  # how DuckDB names each declared type
            shown = [plain.execute(f"select typeof(null::{TYPES[c.type]['duckdb']})").fetchone()[0] for c in columns]
        assert [(r["column_name"], r["data_type"]) for r in rows] == list(zip(NAMES[table], shown)), table
