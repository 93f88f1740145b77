"""What a history import reports: the error for a file that cannot be read, the bad rows, the totals.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

Key = tuple[str, dt.date]  # (alias, chart date)


class HistoryImportError(ValueError):
    """A history file that cannot be read at all (missing, wrong header, not UTF-8 text).

    `report`: what the import had stored before it stopped, when it stopped part way."""

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem
        self.report: ImportReport | None = None


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str
    chart: str | None  # "alias/date" of the chart the row is counted against, when known

    def describe(self, path: str) -> str:
        return f"{path}, line {self.line}: {self.problem}" + (f" ({self.chart} not stored)" if self.chart else "")


@dataclass
class ImportReport:
    path: str
    rows: int = 0  # data rows read
    charts_stored: int = 0
    entries_stored: int = 0
    bytes_stored: int = 0
    charts_rejected: list[str] = field(default_factory=list)  # "alias/date" not stored for a bad row
    bad_rows: list[BadRow] = field(default_factory=list)  # the first MAX_REPORTED
    bad_row_count: int = 0
    viral_rows: int = 0
    unknown_regions: dict[str, int] = field(default_factory=dict)  # region name -> rows skipped
    late_rows: int = 0  # rows of charts already stored (or not whole yet), set aside to merge at the end
    late_rows_merged: int = 0  # of those, the rows merged into a chart that was then stored
    charts_kept: list[str] = field(default_factory=list)  # not stored: the snapshot stored before stays
    charts_not_finished: list[str] = field(default_factory=list)  # rows still to merge when it stopped
    warnings: list[BadRow] = field(default_factory=list)  # rows stored, but worth a look (the first MAX)
    warning_count: int = 0
    regions: set[str] = field(default_factory=set)  # codes of the charts stored
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    dates: list[dt.date] = field(default_factory=list)  # every date with a chart stored, in order
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.path}: {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows / max(self.seconds, 1e-9):,.0f} rows/s); {self.charts_stored:,} charts stored "
            f"({self.entries_stored:,} entries, {len(self.regions)} regions, {self.first_date} .. {self.last_date})",
            f"skipped: {self.viral_rows:,} viral50 rows; {self.bad_row_count:,} bad rows; "
            f"{len(self.charts_rejected):,} charts not stored because of a bad row",
        ]
        if self.charts_stored:
            lines.append(f"dates stored: {describe_dates(self.dates)}")
        for name, count in sorted(self.unknown_regions.items()):
            lines.append(f"unknown region {name!r}: {count:,} rows skipped (not in data/regions.csv)")
        if self.late_rows:
            lines.append(
                f"{self.late_rows:,} rows arrived apart from the rest of their chart: {self.late_rows_merged:,} "
                "were merged into their chart, the others belong to charts not stored"
            )
        if self.charts_kept:
            lines.append(
                f"kept as stored before this import (this file's version is not whole or not valid): "
                f"{', '.join(self.charts_kept[:20])}" + (" ..." if len(self.charts_kept) > 20 else "")
            )
        lines.extend(bad.describe(self.path) for bad in self.bad_rows)
        if self.bad_row_count > len(self.bad_rows):
            lines.append(f"... and {self.bad_row_count - len(self.bad_rows):,} more bad rows")
        lines.extend(f"warning: {warning.describe(self.path)}" for warning in self.warnings)
        if self.warning_count > len(self.warnings):
            lines.append(f"... and {self.warning_count - len(self.warnings):,} more warnings")
        return "\n".join(lines)

    def stopped(self) -> str:
        """What an import that stopped part way had done (its error says why it stopped)."""
        kept = (
            f"; {len(self.charts_not_finished):,} charts still waiting for rows were put back as they were"
            if self.charts_not_finished
            else ""
        )
        if not self.charts_stored:
            return f"The import stopped before any chart was stored{kept}."
        return (
            f"The import stopped after storing {self.charts_stored:,} charts ({describe_dates(self.dates)}){kept}. "
            "Run it again once the file is mended: it stores every chart again."
        )

    def next_step(self) -> str:
        """What to run next: load the dates stored into staging (and on through dbt and the dashboard)."""
        if not self.charts_stored:
            return "No chart was stored."
        from spotify_charts import settings

        regions = ",".join(sorted(self.regions))
        spans = date_spans(self.dates)
        launch = "  dg launch -m spotify_charts.definitions --assets"
        shown = spans[:MAX_SPANS_SHOWN]
        return "\n".join(
            [
                f"Next, load {describe_dates(self.dates)} into staging with {settings.REGIONS.name}={regions}",
                "(README, Bringing in years of history): in the Dagster UI, materialise the staging assets and "
                "everything downstream for "
                + ("that partition range" if len(spans) == 1 else f"each of these {len(spans)} partition ranges")
                + " (single run), or",
                *(f"{launch} '{PARTITIONED_SELECTION}' --partition-range {first}...{last}" for first, last in shown),
                *(
                    [f"  (and {len(spans) - len(shown)} more ranges: see the dates stored above)"]
                    if len(spans) > len(shown)
                    else []
                ),
                f"{launch} '{HISTORY_WIDE_SELECTION}'",
            ]
        )


# The two `dg launch` selections that load imported history (README, "Bringing in years of
# history"): staging and the partitioned dbt models over the imported range (raw is already
# stored), then the assets made from all of history (the regions seed, dimensions, marts, dashboard).
PARTITIONED_SELECTION = "partitions:time and not key:raw_chart_snapshots"
HISTORY_WIDE_SELECTION = "partitions:none"
MAX_SPANS_SHOWN = 10


def date_spans(dates: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted dates as runs of consecutive days: [(first, last), ...]."""
    spans: list[tuple[dt.date, dt.date]] = []
    for day in dates:
        if spans and day == spans[-1][1] + dt.timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def describe_dates(dates: list[dt.date]) -> str:
    """`2017-01-01 .. 2017-01-31` (with `, 2017-02-03` and so on for every gap), the first ten spans."""
    spans = date_spans(dates)
    text = ", ".join(str(a) if a == b else f"{a} .. {b}" for a, b in spans[:MAX_SPANS_SHOWN])
    more = len(spans) - MAX_SPANS_SHOWN
    return text + (f" and {more} more ranges ({len(dates):,} dates)" if more > 0 else "")


def label(key: Key) -> str:
    return f"{key[0]}/{key[1].isoformat()}"


def check_report(report: ImportReport) -> None:
    """HistoryImportError naming the first bad row when any row was bad (the good charts are stored)."""
    if report.bad_row_count:
        first = report.bad_rows[0]
        raise HistoryImportError(
            report.path,
            f"{report.bad_row_count} bad row(s), {len(report.charts_rejected)} chart(s) not stored; "
            f"first: line {first.line}: {first.problem}",
        )
