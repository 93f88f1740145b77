"""`dg launch` more than once in one process: `make demo`'s two runs.

Each is dg's own command (`dg launch -m spotify_charts.definitions ...`), called in this process
instead of a new one: Dagster is imported and the definitions loaded once for both runs, which
saves a second command's start (~6 s on 2 cores). The runs are the same: the same instance
(DAGSTER_HOME), tags, asset selection and run config, recorded and shown in the UI as before.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from dagster_dg_cli.cli import ENV_PREFIX
from dagster_dg_cli.cli import cli as dg_cli

DEFINITIONS_MODULE = "spotify_charts.definitions"
INTERRUPTED = 130


def launch_in_one_process(launches: list[list[str]]) -> int:
    """`dg launch -m spotify_charts.definitions ARGS` for each ARGS in turn, in this process. Stops
    at the first that fails (its exit status, 1, after dg's "Error: ..." line) or after Ctrl-C (130:
    the run that was going ends as `dg launch` ends it, CANCELED or FAILURE; no later one starts)."""
    try:
        with _sigint_seen() as interrupted:
            for args in launches:
                if interrupted():
                    return INTERRUPTED
                try:
                    status = dg_cli.main(
                        ["launch", "-m", DEFINITIONS_MODULE, *args],
                        prog_name="dg",
                        auto_envvar_prefix=ENV_PREFIX,
                        standalone_mode=False,
                    )
                except click.exceptions.Abort:  # Ctrl-C before dg's run started
                    return INTERRUPTED
                except click.ClickException as exc:  # "Materialization failed.": the run's log says why
                    exc.show()
                    return exc.exit_code
                if isinstance(status, int) and status:
                    return status
    except KeyboardInterrupt:  # Ctrl-C between two runs
        return INTERRUPTED
    return 0


@contextmanager
def _sigint_seen() -> Iterator[Callable[[], bool]]:
    """Whether a SIGINT arrived since: `dg launch` records one during its run as a flag of its own
    (acted on at the run's next check, forgotten when the command returns), so one that came as a
    run was finishing would otherwise let the next run start. Python writes every signal it
    handles to the wakeup file descriptor, whichever handler is installed."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    seen = False

    def interrupted() -> bool:
        nonlocal seen
        try:
            while data := os.read(read, 64):
                seen = seen or signal.SIGINT in data
        except BlockingIOError:
            pass
        return seen

    try:
        yield interrupted
    finally:
        signal.set_wakeup_fd(previous)
        os.close(read)
        os.close(write)
