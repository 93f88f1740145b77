"""The replay benchmark (issue 16.5): years of every region's charts, from raw snapshots through
Dagster into staging, the facts, the marts and the dashboard; then the daily update of one new
date on top. Each step's time and peak memory, and the Dagster side's share.

Data, made once and reused (`bench-results/replay-{regions}x{days}/`): a synthetic history CSV in
the public history's layout (`synthetic_history.py`: 200 rows per region and day, plus the global
viral50) for the backfill's dates and the update date, imported with the history importer
(`python -m spotify_charts.cli.history`, timed too) into `data/raw/`. Each replay starts from a
fresh warehouse and a fresh Dagster instance (SQLite, as `make dev`): `dg launch` of staging and
the partitioned dbt models for the whole range as one run, then of the assets made from all of
history (dimensions, marts, dashboard) as a second (RUNS; the default multiprocess executor: one
process per step, as a run launched from the UI), then the same for the update date alone.

Memory: a thread reads /proc every 0.5 s for every process below the command (the step processes
and dbt's), keeping each one's VmHWM (the kernel's own peak resident set for that process), so no
peak between two reads is missed. Step times come from the run's event log (STEP_START to
STEP_SUCCESS; the events carry the step process's pid, which ties the peaks to steps).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import fresh_instance
from benchmarks.synthetic_history import write_history
from spotify_charts.sources.history.report import HISTORY_WIDE_SELECTION, PARTITIONED_SELECTION

REPO = Path(__file__).resolve().parent.parent
FIRST = dt.date(2017, 1, 1)
# The two runs the history import tells its user to launch next (and `make demo` makes).
RUNS = (("partitioned", PARTITIONED_SELECTION, True), ("history-wide", HISTORY_WIDE_SELECTION, False))
MiB = 1024 * 1024


@dataclass
class Proc:
    pid: int
    ppid: int
    command: str
    peak_kib: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0


@dataclass
class Watched:
    seconds: float
    returncode: int
    processes: dict[int, Proc] = field(default_factory=dict)
    start: float = 0.0
    wall_start: float = 0.0  # time.time() at the start, to set against the event log's timestamps

    def peak_mib(self) -> float:
        return max((p.peak_kib for p in self.processes.values()), default=0) / 1024

    def children_of(self, pid: int) -> list[Proc]:
        """Every process below `pid` (not `pid` itself)."""
        found, frontier = [], {pid}
        while frontier:
            below = [p for p in self.processes.values() if p.ppid in frontier]
            found.extend(below)
            frontier = {p.pid for p in below}
        return found


def _status(pid: int) -> tuple[int, int] | None:
    """(ppid, VmHWM in KiB) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            text = handle.read()
    except OSError:
        return None
    ppid = hwm = 0
    for line in text.splitlines():
        if line.startswith("PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return ppid, hwm


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
    except OSError:
        return ""


def watch(command: list[str], env: dict[str, str], log: Path, interval: float = 0.5) -> Watched:
    """Run `command`, recording every descendant's peak memory, until it exits."""
    start = time.perf_counter()
    with open(log, "wb") as out:
        child = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    watched = Watched(0.0, 0, start=start, wall_start=time.time() - (time.perf_counter() - start))
    seen = watched.processes
    done = threading.Event()

    snapshot = log.with_suffix(".processes.json")  # so a run stopped half-way still tells what it saw
    next_dump = 0.0

    def poll() -> None:
        nonlocal next_dump
        while True:
            now = time.perf_counter() - start
            table = {}
            for name in os.listdir("/proc"):
                if name.isdigit() and (status := _status(int(name))) is not None:
                    table[int(name)] = status
            tree, frontier = set(), {child.pid}
            while frontier:  # the command and everything below it, however the pids are ordered
                tree |= frontier
                frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier and pid not in tree}
            for pid in tree & table.keys():
                ppid, hwm = table[pid]
                proc = seen.get(pid)
                if proc is None:
                    proc = seen[pid] = Proc(pid, ppid, _command(pid), first_seen=now)
                proc.peak_kib = max(proc.peak_kib, hwm)
                proc.last_seen = now
            if now >= next_dump or done.is_set():
                next_dump = now + 5
                rows = [vars(p) for p in sorted(seen.values(), key=lambda p: -p.peak_kib)]
                snapshot.write_text(json.dumps({"seconds": now, "processes": rows}, indent=1))
            if done.is_set():
                return
            time.sleep(interval)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    watched.returncode = child.wait()
    watched.seconds = time.perf_counter() - start
    done.set()
    thread.join()
    return watched


def checkout_commit() -> str:
    """The commit this checkout is at (what a figure was measured with)."""
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()


def prepare(folder: Path, regions: list[str], days: int) -> dict:
    """The history CSV and its imported raw snapshots (made once; the import's figures kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "prepared.json"
    if done.exists():
        return json.loads(done.read_text())
    history = folder / "history.csv.gz"
    start = time.perf_counter()
    rows = write_history(history, regions, FIRST, days + 1)  # + the update date
    written = time.perf_counter() - start
    print(f"  wrote {rows:,} rows of synthetic history in {written:.0f} s: {history}", flush=True)
    shutil.rmtree(folder / "data", ignore_errors=True)
    env = {**os.environ, "SPOTIFY_CHARTS_DATA_DIR": str(folder / "data")}
    watched = watch(
        [sys.executable, "-m", "spotify_charts.cli.history", "--quiet", str(history)], env, folder / "import.log"
    )
    if watched.returncode:
        raise RuntimeError(f"the history import failed; see {folder / 'import.log'}")
    result = {
        "rows": rows,
        "csv_bytes": history.stat().st_size,
        "write_s": written,
        "import_s": watched.seconds,
        "import_rows_per_s": rows / watched.seconds,
        "import_peak_mib": watched.peak_mib(),
        "import_log": (folder / "import.log").read_text()[:2000],
        "commit": checkout_commit(),
    }
    print(f"  imported in {watched.seconds:.0f} s = {result['import_rows_per_s']:,.0f} rows/s, "
          f"peak {result['import_peak_mib']:.0f} MiB", flush=True)  # fmt: skip
    done.write_text(json.dumps(result, indent=2))
    return result


def materialize(folder: Path, regions: list[str], first: dt.date, last: dt.date, name: str) -> dict:
    """The two `dg launch` runs of staging and everything downstream for first..last (RUNS)."""
    env = fresh_instance(
        folder,
        ",".join(regions),
        SPOTIFY_CHARTS_DUCKDB_PATH=str(folder / "warehouse.duckdb"),
        SPOTIFY_CHARTS_SOURCE="sample",  # (nothing is fetched: raw is not in the selection)
        # One "planned" event per asset with the whole range, not one per partition (as make demo)
        DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS="true",
    )
    home = Path(env["DAGSTER_HOME"])
    runs = {}
    for part, selection, ranged in RUNS:
        command = [
            str(Path(sys.executable).with_name("dg")), "launch", "-m", "spotify_charts.definitions",
            "--assets", selection, *(["--partition-range", f"{first}...{last}"] if ranged else []),
        ]  # fmt: skip
        log = folder / f"{name}-{part}.log"
        watched = watch(command, env, log)
        if watched.returncode:
            raise RuntimeError(f"the {name} {part} run failed; see {log}")
        runs[part] = {"seconds": watched.seconds, "peak_mib": watched.peak_mib(), **_run_figures(home, watched)}
    return {
        "seconds": sum(run["seconds"] for run in runs.values()),
        "peak_mib": max(run["peak_mib"] for run in runs.values()),
        "runs": runs,
    }


def _run_figures(home: Path, watched: Watched) -> dict:
    """Steps (time, peak memory of the step process and of its children, e.g. dbt), and the Dagster
    side: time before the run starts (loading code, planning, planned events) and after it ends,
    and the events recorded, from the run's event log."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        record = instance.get_run_records(limit=1)[0]
        logs = instance.all_logs(record.dagster_run.run_id)
    counts: dict[str, int] = {}
    steps: dict[str, dict] = {}
    run_start = run_end = None
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("RUN_START", "PIPELINE_START"):
            run_start = entry.timestamp
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = entry.timestamp
        elif kind == "STEP_START":
            steps[event.step_key] = {"start": entry.timestamp, "pid": event.pid}
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in steps:
            steps[event.step_key]["end"] = entry.timestamp
    created = record.create_timestamp.timestamp()
    out_steps = {}
    for key, step in steps.items():
        proc = watched.processes.get(step["pid"])
        children = watched.children_of(step["pid"]) if proc else []
        dbt = [p for p in children if "dbt" in p.command]
        out_steps[key] = {
            "seconds": step.get("end", step["start"]) - step["start"],
            "step_peak_mib": (proc.peak_kib / 1024) if proc else None,
            "dbt_peak_mib": max((p.peak_kib for p in dbt), default=0) / 1024,
            "dbt_seconds": sum(p.last_seen - p.first_seen for p in dbt),
        }
    step_total = sum(s["seconds"] for s in out_steps.values())
    run_seconds = (run_end - run_start) if run_start and run_end else None
    return {
        "launch_to_run_start_s": (run_start - watched.wall_start) if run_start else None,
        "run_end_to_exit_s": (watched.wall_start + watched.seconds - run_end) if run_end else None,
        "steps_s": step_total,
        "between_steps_s": (run_seconds - step_total) if run_seconds else None,
        "before_run_s": (run_start - created) if run_start else None,
        "created_to_end_s": (run_end - created) if run_end else None,
        "run_s": (run_end - run_start) if run_start and run_end else None,
        "events": counts,
        "event_total": sum(counts.values()),
        "steps": out_steps,
        "processes": [
            {
                "pid": p.pid,
                "peak_mib": round(p.peak_kib / 1024),
                "seconds": round(p.last_seen - p.first_seen, 1),
                "command": p.command[:120],
            }
            for p in sorted(watched.processes.values(), key=lambda p: -p.peak_kib)[:8]
        ],  # fmt: skip
    }


def bench_replay(work: Path, regions: list[str], days: int) -> dict:
    folder = work / f"replay-{len(regions)}x{days}"
    load_before = Path("/proc/loadavg").read_text().split()[:3]  # the machine is shared: say how busy it was
    prepared = prepare(folder, regions, days)
    last = FIRST + dt.timedelta(days=days - 1)
    update = last + dt.timedelta(days=1)
    for stale in ("warehouse.duckdb", "warehouse.duckdb.wal", "dagster_home"):
        path = folder / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    print(f"  backfill {FIRST}..{last}, {len(regions)} regions, two runs ...", flush=True)
    backfill = materialize(folder, regions, FIRST, last, "backfill")
    print(f"  backfill: {backfill['seconds']:.0f} s, peak {backfill['peak_mib']:.0f} MiB", flush=True)
    shutil.rmtree(folder / "dagster_home")  # the update's run alone in the event log read above
    daily = materialize(folder, regions, update, update, "update")
    print(f"  daily update of {update}: {daily['seconds']:.0f} s, peak {daily['peak_mib']:.0f} MiB", flush=True)
    result = {
        "regions": len(regions),
        "days": days,
        "commit": checkout_commit(),
        "load_average_before": load_before,
        "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
        "prepared": prepared,
        "backfill": backfill,
        "update": daily,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def bench_update_again(work: Path, regions: list[str], days: int, rounds: int) -> dict:
    """The replay's daily update again, `rounds` times, each over a fresh copy of the warehouse the
    last replay left (its update date already loaded, so it is replaced): the daily update's cost
    without a new backfill, to compare two checkouts side by side (run this from each)."""
    folder = work / f"replay-{len(regions)}x{days}"
    if not (folder / "warehouse.duckdb").exists():
        raise RuntimeError(f"no replay warehouse in {folder}: run `--only replay` first")
    again = work / f"update-again-{len(regions)}x{days}"
    update = FIRST + dt.timedelta(days=days)
    seconds, peak = [], 0.0
    for _ in range(max(1, rounds)):
        shutil.rmtree(again, ignore_errors=True)
        again.mkdir(parents=True)
        (again / "data").symlink_to(folder / "data")
        shutil.copyfile(folder / "warehouse.duckdb", again / "warehouse.duckdb")
        result = materialize(again, regions, update, update, "update")
        seconds.append(result["seconds"])
        peak = max(peak, result["peak_mib"])
        print(
            f"  daily update of {update} again: {result['seconds']:.1f} s, peak {result['peak_mib']:.0f} MiB",
            flush=True,
        )
    return {"update": update, "seconds": seconds, "peak_mib": peak}


def table_lines(result: dict) -> list[str]:
    """Rows for BENCHMARKS.md's table (the full detail is in result.json beside the data)."""
    prep, back, daily = result["prepared"], result["backfill"], result["update"]
    scale = f"{result['regions']} regions x {result['days']} days"
    made = f"at {prep['commit'][:7]}" if prep.get("commit") else "at an earlier commit"
    lines = [
        f"| history import of the synthetic CSV ({prep['rows']:,} rows, {prep['csv_bytes'] / 1e9:.2f} GB "
        f"gzipped), {scale}, when the data was made ({made}; "
        f"delete prepared.json to measure it again) | {prep['import_rows_per_s']:,.0f} rows/s "
        f"({prep['import_s']:.0f} s), peak {prep['import_peak_mib']:.0f} MiB | 200,000 rows/s |",
        f"| replay: raw snapshots to dashboard in two runs, {scale} | {back['seconds']:.0f} s, "
        f"largest process {back['peak_mib']:.0f} MiB | 15 min, 2 GB |",
    ]  # fmt: skip
    for part, run in back["runs"].items():
        for key, step in run["steps"].items():
            dbt = f", dbt {step['dbt_peak_mib']:.0f} MiB for {step['dbt_seconds']:.0f} s" if step["dbt_seconds"] else ""
            lines.append(
                f"| replay, {part} run, step `{key}` | {step['seconds']:.0f} s, step process "
                f"{step['step_peak_mib'] or 0:.0f} MiB{dbt} | |"
            )
        lines.append(
            f"| replay, {part} run, Dagster side | {run['launch_to_run_start_s'] or 0:.0f} s from the command to the "
            f"run's start (loading the code, planning), {run['between_steps_s'] or 0:.0f} s between steps (step "
            f"processes starting), {run['run_end_to_exit_s'] or 0:.0f} s after the run; {run['event_total']:,} events "
            f"({run['events'].get('ASSET_MATERIALIZATION', 0):,} materialisations) | |"
        )
    lines.append(
        f"| daily update of one new date on top, two runs | {daily['seconds']:.0f} s, largest process "
        f"{daily['peak_mib']:.0f} MiB | 60 s, 2 GB |"
    )
    return lines


def bench_history_import(work: Path, rounds: int, regions: list[str], days: int = 200) -> dict:
    """The importer alone: a synthetic history of `days` days of every region (2.9 M rows for 73 x
    200, written once), imported into an empty folder by a fresh process each round."""
    folder = work / "history-import"
    folder.mkdir(parents=True, exist_ok=True)
    history = folder / f"history-{len(regions)}x{days}.csv.gz"
    if not history.exists():
        write_history(folder / "partial.csv.gz", regions, FIRST, days)
        (folder / "partial.csv.gz").rename(history)
    results = []
    for n in range(rounds):
        shutil.rmtree(folder / "data", ignore_errors=True)
        env = {**os.environ, "SPOTIFY_CHARTS_DATA_DIR": str(folder / "data")}
        command = [sys.executable, "-m", "spotify_charts.cli.history", "--quiet", str(history)]
        watched = watch(command, env, folder / "import.log")
        if watched.returncode:
            raise RuntimeError(f"the history import failed; see {folder / 'import.log'}")
        summary = (folder / "import.log").read_text().splitlines()[0]  # "...: N rows in S s (R rows/s); ..."
        rows = int(summary.split(": ", 1)[1].split(" rows")[0].replace(",", ""))
        inside = float(summary.split(" rows in ")[1].split(" s ")[0])
        peak = watched.peak_mib()
        results.append({"rows": rows, "import_s": inside, "process_s": watched.seconds, "peak_mib": peak})
        print(f"  history import round {n + 1}: {rows:,} rows in {inside:.1f} s = {rows / inside:,.0f} rows/s "
              f"({watched.seconds:.1f} s with the process start), peak {peak:.0f} MiB", flush=True)  # fmt: skip
    shutil.rmtree(folder / "data", ignore_errors=True)
    rates = sorted(r["rows"] / r["import_s"] for r in results)
    return {
        "rows": results[0]["rows"],
        "bytes": history.stat().st_size,
        "median_per_s": rates[len(rates) // 2],
        "range": (rates[0], rates[-1]),
        "process_per_s": sorted(r["rows"] / r["process_s"] for r in results)[len(results) // 2],
        "peak_mib": max(r["peak_mib"] for r in results),
    }
