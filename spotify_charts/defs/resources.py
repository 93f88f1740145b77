"""Dagster resources: the chart source, the file store and the warehouse.

None of them has config: each reads `spotify_charts.settings` when a step (or a sensor tick)
starts, in `setup_for_execution`, so a changed variable applies to the next run without reloading
the code location, a bad one fails the step before it does anything (one line naming the
variable), and no value, secret or not, ever appears in run config or the UI. Which store and
which warehouse is chosen then too, from the same settings (`storage.from_settings`,
`warehouses.from_settings`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from spotify_charts import settings, storage, warehouses
from spotify_charts.defs.dbt_project import dbt_executable, dbt_project
from spotify_charts.sources import ChartSource
from spotify_charts.sources import from_settings as source_from_settings
from spotify_charts.storage import FileStore
from spotify_charts.warehouses.base import Warehouse, dbt_arguments


class SettingsResource(dg.ConfigurableResource):
    """A resource whose every value comes from the settings, read when a step or tick starts."""

    _values: settings.Values | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._values = settings.load()  # SettingError: the step fails here, before its body runs

    def settings_values(self) -> settings.Values:
        """The settings this step started with (read now when used outside a run: the CLI, tests)."""
        if self._values is None:
            self._values = settings.load()
        return self._values


class ChartSourceResource(SettingsResource):
    """Which charts to collect (`settings.REGIONS`) and where from (`settings.SOURCE`).

    Tokens and secrets are read from the environment by the step itself: the UI and run config
    show none of them."""

    def aliases(self) -> list[str]:
        """The configured charts' aliases."""
        return self.settings_values().aliases

    def source_name(self) -> str:
        return self.settings_values()[settings.SOURCE]

    def csv_folder(self) -> Path | None:
        """The folder of chart CSV downloads, or None when it is not set."""
        folder = self.settings_values()[settings.CSV_DIR]
        return Path(folder) if folder else None

    def require_csv_folder(self) -> Path:
        folder = self.csv_folder()
        if folder is None:
            raise settings.SettingError(f"chart CSVs are read from {settings.CSV_DIR.name}, which is not set")
        return folder

    def get_source(self) -> ChartSource:
        return source_from_settings(self.settings_values())


class FileStoreResource(SettingsResource):
    """Where raw snapshots, the dashboard and Redshift's load files are kept: the S3 bucket when
    one is set (credentials from boto3's usual chain, never from run config), else the data folder."""

    def get_store(self) -> FileStore:
        return storage.from_settings(self.settings_values())


class WarehouseResource(SettingsResource):
    """The warehouse holding the staging tables and dbt's models (`settings.WAREHOUSE`)."""

    def get_warehouse(self) -> Warehouse:
        return warehouses.from_settings(self.settings_values())

    def dbt_arguments(self, dbt_vars: Mapping[str, object] | None = None) -> list[str]:
        """dbt's `--target` and `--vars` for this warehouse, with `dbt_vars` (the run's dates) added.

        The profile's values travel as arguments of `dbt.cli`; nothing is written to os.environ.
        Secrets are not among them: dbt reads those from the variables the user set."""
        return dbt_arguments(self.get_warehouse(), dict(dbt_vars or {}))


class ChartsDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, without two things it does before every dbt command that this
    project never uses, ~5 s of each dbt step (two in a daily update):

    - it runs `dbt --version` (a whole dbt start, ~3 s) to learn the version; the executable is
      the one dbt-core installed here (`dbt_executable`), so the installed package's version is
      the same answer;
    - it imports dbt and opens the adapter in the step's process (~2 s), used only by
      `fetch_row_counts` and `fetch_column_metadata`, which the dbt assets do not call."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The code location's resources. They hold no values: each reads the settings when a step starts."""
    return {
        "chart_source": ChartSourceResource(),
        "file_store": FileStoreResource(),
        "warehouse": WarehouseResource(),
        "dbt": ChartsDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
