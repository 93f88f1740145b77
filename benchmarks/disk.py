"""Disk after many runs: what `dbt/target` and the Dagster instance hold after N `make demo` runs.

Each run is the demo command for one chart date (a new date each time, like a daily update), on a
fresh instance and data folder under bench-results/disk/. Prints, after every run, the dbt step
folders left in dbt/target (count, MB) and the instance folder's size (MB).

Usage: python -m benchmarks.disk [--runs 30] [--regions ee]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import fresh_instance

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench-results" / "disk"
TARGET = REPO / "dbt" / "target"


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def step_folders() -> list[Path]:
    return [p for p in TARGET.glob("*_dbt_models-*") if p.is_dir()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.disk")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--regions", default="ee")
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    env = fresh_instance(WORK, args.regions)
    home = Path(env["DAGSTER_HOME"])
    before = {p.name for p in step_folders()}
    first = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=args.runs)
    print("run  seconds  dbt step folders  dbt MB  instance MB", flush=True)
    for i in range(args.runs):
        day = (first + dt.timedelta(days=i)).isoformat()
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "spotify_charts.cli.demo", "demo", "--start", day, "--end", day],
            cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        left = [p for p in step_folders() if p.name not in before]
        print(
            f"{i + 1:>3}  {time.monotonic() - started:>7.1f}  {len(left):>16}  {sum(map(size_mb, left)):>6.1f}"
            f"  {size_mb(home):>11.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
