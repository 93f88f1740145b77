"""What a history import reports: the error for a file that cannot be read, the bad rows, the totals.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

Key = tuple[str, dt.date]  # (alias, chart date)


class HistoryImportError(ValueError):
    """A history file that cannot be read at all (missing, wrong header, not UTF-8 text)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


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
    late_rows: int = 0  # rows of charts already stored, merged at the end
    regions: set[str] = field(default_factory=set)  # codes of the charts stored
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.path}: {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows / max(self.seconds, 1e-9):,.0f} rows/s); {self.charts_stored:,} charts stored "
            f"({self.entries_stored:,} entries, {len(self.regions)} regions, {self.first_date} .. {self.last_date})",
            f"skipped: {self.viral_rows:,} viral50 rows; {self.bad_row_count:,} bad rows; "
            f"{len(self.charts_rejected):,} charts not stored because of a bad row",
        ]
        for name, count in sorted(self.unknown_regions.items()):
            lines.append(f"unknown region {name!r}: {count:,} rows skipped (not in data/regions.csv)")
        if self.late_rows:
            lines.append(f"{self.late_rows:,} rows arrived after their chart was stored and were merged into it")
        lines.extend(bad.describe(self.path) for bad in self.bad_rows)
        if self.bad_row_count > len(self.bad_rows):
            lines.append(f"... and {self.bad_row_count - len(self.bad_rows):,} more bad rows")
        return "\n".join(lines)


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
