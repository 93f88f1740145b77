"""Import a public chart history CSV into the raw store, with a progress line on stderr.

Usage: python -m spotify_charts.cli.history FILE [--window-rows N]

FILE is plain or gzipped CSV in the public history's layout (`sources/history/`). Snapshots go
where the pipeline keeps them (the S3 bucket when one is set, else the data folder). At the end
it prints what was stored, what was skipped and every bad row (file and line), and the partition
range to load into staging next. Exit status 0, or 1 when a row was bad (its chart is not stored;
the other charts are), 2 when the file cannot be read or a setting is wrong.

Plain module (no Dagster import).
"""

from __future__ import annotations

import argparse
import sys
import time

from spotify_charts import settings
from spotify_charts.settings import SettingError
from spotify_charts.sources.history import WINDOW_ROWS, HistoryImportError, import_history
from spotify_charts.storage import FileStore
from spotify_charts.storage.local import LocalFileStore


def store_from_settings() -> FileStore:
    """The raw store the pipeline uses: the S3 bucket when one is set, else the data folder."""
    bucket = settings.get(settings.S3_BUCKET)
    if bucket:
        import boto3

        from spotify_charts.storage.s3 import S3FileStore

        return S3FileStore(boto3.client("s3"), bucket, settings.get(settings.S3_PREFIX) or "")
    return LocalFileStore(settings.get(settings.DATA_DIR))


class ProgressLine:
    """`  42% 1.5 GB of 3.5 GB, 11,000,000 rows, 230,000 rows/s, 2 min left`, redrawn in place."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, rows: int) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        share = done / total if total else 1.0
        left = elapsed * (1 - share) / share if share > 0 else 0.0
        self.stream.write(
            f"\r{100 * share:5.1f}% {done / 1e9:.2f} GB of {total / 1e9:.2f} GB, {rows:,} rows, "
            f"{rows / elapsed:,.0f} rows/s, {left / 60:.0f} min left   "
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spotify_charts.cli.history", description=__doc__.split("\n")[0])
    parser.add_argument("file", help="the history CSV (plain or .gz)")
    parser.add_argument("--window-rows", type=int, default=WINDOW_ROWS, help="rows of open charts kept in memory")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    try:
        store = store_from_settings()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = None if args.quiet else ProgressLine()
    try:
        report = import_history(args.file, store, progress=progress, window_rows=args.window_rows)
    except HistoryImportError as exc:
        if progress:
            progress.finish()
        print(f"error: {exc}", file=sys.stderr)
        if exc.report is not None:
            print(exc.report.stopped(), file=sys.stderr)
            if exc.report.charts_stored:
                print(exc.report.next_step(), file=sys.stderr)
        return 2
    if progress:
        progress.finish()
    print(report.summary())
    print(report.next_step())
    return 1 if report.bad_row_count else 0


if __name__ == "__main__":
    sys.exit(main())
