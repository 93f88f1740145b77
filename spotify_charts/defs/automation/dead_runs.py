"""Runs whose process is gone: found, marked failed, and their warehouse slot freed.

A run killed with its process (`kill -9`, the OOM killer, a container restart; a laptop that shut
down) still says STARTED and still holds its slot of the `warehouse` pool, so every later warehouse
step waits for it forever. Dagster's run monitoring (dagster.yaml) handles start and cancel
timeouts, a maximum runtime and the slots of runs that have ended, but with the default run
launcher it cannot tell that a run's process died: that is the gap this module closes.

Callers: the demo command before it launches a run and after it ends (no daemon there), and the
`dead_runs` sensor under the daemon (`make dev`). Both also delete old failed runs
(`prune_failed_runs`, settings.KEEP_FAILED_RUNS_DAYS).

A run's process is the pid of its RUN_START event (the process that executes the run emits it).
It is looked at only where a pid means something: an instance kept in SQLite under DAGSTER_HOME,
which only processes of this machine share. In an instance kept in a shared database (PostgreSQL)
runs may live in other containers or machines; there a run worker's health is the run launcher's
business (the Docker, ECS and Kubernetes launchers report it to run monitoring) and nothing is
marked failed here. Finished runs that still hold a slot are freed in every instance.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from spotify_charts.defs.run_tags import WORKER_LOST_TAG

IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
# /proc gives a process's start time in clock ticks after boot; the boot time is whole seconds.
START_TIME_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class Process:
    pid: int
    since: float  # when it reported itself (epoch seconds): it must have started before then


def run_worker(instance: dg.DagsterInstance, run_id: str) -> Process | None:
    """The process that executes the run (the one that reported its start), if it has started."""
    starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    event = starts[-1].dagster_event if starts else None
    if event is None or event.pid is None:
        return None
    return Process(event.pid, starts[-1].timestamp)


def step_processes(instance: dg.DagsterInstance, run_id: str) -> list[Process]:
    """The processes that ran the run's steps (the multiprocess executor starts one per step)."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START):
        if entry.dagster_event is not None and entry.dagster_event.pid is not None:
            found.append(Process(entry.dagster_event.pid, entry.timestamp))
    return found


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (Linux), else None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _started_at(fields: list[str]) -> float | None:
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        boot = next(int(line.split()[1]) for line in lines if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def is_alive(process: Process) -> bool:
    """Whether that process still runs: the pid exists, is not a zombie, and is not a newer process
    that was given the same pid (it started after the run's process reported itself)."""
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user's process
    fields = _proc_stat(process.pid)
    if fields is None:  # no /proc (macOS): the pid exists, that is all we can know
        return True
    if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    started = _started_at(fields)
    return started is None or started <= process.since + START_TIME_SLACK_SECONDS


def pids_are_local(instance: dg.DagsterInstance) -> bool:
    """Whether every run of the instance ran on this machine, so a pid in its events is one of ours.

    Dagster has no public way to ask where an instance keeps its runs; the run storage's class is
    the sign: SQLite files under DAGSTER_HOME (or memory) are only shared by this machine's processes.
    """
    return type(instance.run_storage).__name__ in ("SqliteRunStorage", "InMemoryRunStorage")


def worker_gone(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why the run's process is known to be gone (a sentence), or None: alive, not started, or unknown."""
    if run.status not in IN_PROGRESS or not pids_are_local(instance):
        return None
    worker = run_worker(instance, run.run_id)
    if worker is None or is_alive(worker):
        return None
    return f"its process (pid {worker.pid} on {socket.gethostname()}) is gone: killed or crashed"


def _end_run(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> str:
    """Mark the run ended, saying why.

    Not in Dagster's documented API: these are the instance methods Dagster's own run monitoring
    calls to end a run whose worker it found dead; kept in this one function.
    """
    instance.add_run_tags(run.run_id, {WORKER_LOST_TAG: reason})
    message = (
        f"Marked failed by spotify-charts: {reason}. Its warehouse slot is freed; materialise its "
        "partitions again (the new_chart_dates sensor and the schedule request them again)."
    )
    if run.status == dg.DagsterRunStatus.CANCELING:
        instance.report_run_canceled(run, message)
        return "canceled"
    instance.report_run_failed(run, message)
    return "failed"


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give back every pool slot the run holds or waits for (Dagster's run monitoring does the same
    for ended runs, through the same storage method, after `free_slots_after_run_end_seconds`)."""
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def runs_in_pools(instance: dg.DagsterInstance) -> set[str]:
    """Runs that hold a pool slot or have a step waiting for one."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    run_ids = set(storage.get_concurrency_run_ids())
    for key in storage.get_concurrency_keys():
        run_ids.update(slot.run_id for slot in storage.get_concurrency_info(key).claimed_slots)
    return run_ids


def _stop_leftover_steps(instance: dg.DagsterInstance, run_id: str, worker: Process | None) -> list[int]:
    """SIGTERM step processes of a dead run that outlived it (they would keep the warehouse busy)."""
    stopped = []
    for process in step_processes(instance, run_id):
        if (worker is None or process.pid != worker.pid) and is_alive(process):
            try:
                os.kill(process.pid, signal.SIGTERM)
                stopped.append(process.pid)
            except OSError:
                pass
    return stopped


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """End the runs whose process is gone and free the slots of every run that has ended.

    Returns one line per run acted on (for a log)."""
    lines = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        reason = worker_gone(instance, run)
        if reason is None:
            continue
        outcome = _end_run(instance, run, reason)
        stopped = _stop_leftover_steps(instance, run.run_id, run_worker(instance, run.run_id))
        extra = f"; stopped its leftover step processes {stopped}" if stopped else ""
        lines.append(f"run {run.run_id} ({run.job_name}) {outcome}: {reason}{extra}")
    held = sorted(runs_in_pools(instance))
    records = instance.get_run_records(dg.RunsFilter(run_ids=held)) if held else []
    runs = {record.dagster_run.run_id: record.dagster_run for record in records}
    for run_id in held:
        run = runs.get(run_id)
        if run is None or run.status in FINISHED:  # a deleted run (`dagster run delete`) leaves its claims too
            _free_slots(instance, run_id)
            lines.append(f"run {run_id} ({run.status.value if run else 'deleted'}): freed its pool slots")
    return lines


def prune_failed_runs(instance: dg.DagsterInstance, keep_days: int) -> list[str]:
    """Delete failed and canceled runs that ended more than `keep_days` days ago (0: keep all),
    with their event logs, so the instance does not grow with every failed attempt. Successful
    runs stay: their materialisations are the assets' history."""
    if keep_days <= 0:
        return []
    cutoff = dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        updated_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days),
    )
    lines = []
    for record in instance.get_run_records(filters=cutoff):
        instance.delete_run(record.dagster_run.run_id)
        lines.append(
            f"run {record.dagster_run.run_id} ({record.dagster_run.status.value}): deleted after {keep_days} days"
        )
    return lines


def tidy_local_instance(keep_days: int) -> list[str]:
    """`release_dead_runs` and `prune_failed_runs` on the instance of DAGSTER_HOME: what the demo
    command calls (it has no daemon) before it launches a run and after one fails."""
    with dg.DagsterInstance.get() as instance:
        return release_dead_runs(instance) + prune_failed_runs(instance, keep_days)
