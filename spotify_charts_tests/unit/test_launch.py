"""`make demo`'s runs in one process (spotify_charts.defs.automation.launch): each is dg's own
`launch` command; a failure or a Ctrl-C stops the ones after it. dg is replaced by a stand-in here
(no run); the demo's real runs are in integration/test_cli.py."""

from __future__ import annotations

import os
import signal

import click
import pytest

from spotify_charts.defs.automation import launch


class FakeDg:
    """dg's command group: records each command line and plays what dg would do."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls: list[list[str]] = []

    def main(self, args, **kwargs):
        assert kwargs["standalone_mode"] is False and kwargs["prog_name"] == "dg"
        self.calls.append(args)
        outcome = self.outcomes.pop(0)
        if outcome == "interrupted as it finished":
            # dg records a SIGINT in a flag of its own while its run goes, and forgets it on return
            previous = signal.signal(signal.SIGINT, lambda *_: None)
            try:
                os.kill(os.getpid(), signal.SIGINT)
            finally:
                signal.signal(signal.SIGINT, previous)
            return None
        if outcome == "failed":
            raise click.ClickException("Materialization failed.")
        return None


RUNS = [["--assets", "partitions:time"], ["--assets", "partitions:none"]]


def test_each_run_is_dg_launch_of_the_definitions_in_this_process(monkeypatch):
    dg = FakeDg("ok", "ok")
    monkeypatch.setattr(launch, "dg_cli", dg)
    assert launch.launch_in_one_process(RUNS) == 0
    assert dg.calls == [["launch", "-m", "spotify_charts.definitions", *args] for args in RUNS]


def test_a_failed_run_stops_the_next_with_dgs_error_and_status(monkeypatch, capsys):
    dg = FakeDg("failed", "ok")
    monkeypatch.setattr(launch, "dg_cli", dg)
    assert launch.launch_in_one_process(RUNS) == 1
    assert len(dg.calls) == 1
    assert "Error: Materialization failed." in capsys.readouterr().err


@pytest.mark.parametrize("moment", ["interrupted as it finished", "between the runs"])
def test_ctrl_c_during_a_run_or_after_it_stops_the_next(moment, monkeypatch):
    dg = FakeDg(moment if moment != "between the runs" else "ok", "ok")
    monkeypatch.setattr(launch, "dg_cli", dg)
    if moment == "between the runs":
        # as in a terminal (a suite started in the background may have SIGINT ignored)
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        real = launch._sigint_seen

        class Interrupting:
            def __enter__(self):
                self.inner = real()
                check = self.inner.__enter__()

                def interrupted():
                    if dg.calls:  # after the first run: Python's own handler raises KeyboardInterrupt
                        os.kill(os.getpid(), signal.SIGINT)
                    return check()

                return interrupted

            def __exit__(self, *exc):
                return self.inner.__exit__(*exc)

        monkeypatch.setattr(launch, "_sigint_seen", Interrupting)
    try:
        assert launch.launch_in_one_process(RUNS) == 130
    finally:
        if moment == "between the runs":
            signal.signal(signal.SIGINT, previous)
    assert len(dg.calls) == 1
