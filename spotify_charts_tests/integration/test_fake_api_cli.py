"""The charts stand-in's command line (`python -m spotify_charts_tests.support.fake_api`): --help,
refused arguments with a usage message, and a server started by hand that serves charts with the
options given."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from spotify_charts_tests.support.fake_api import parse_args, serve

MODULE = "spotify_charts_tests.support.fake_api"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", MODULE, *args], capture_output=True, text=True, timeout=60)


def test_help_lists_the_arguments_and_exits_0():
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for word in ("port", "token", "--max-rps", "--fault-rate", "--no-chart", "--latest"):
        assert word in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc"], "argument port: invalid int value: 'abc'"),
        (["70000"], "port 70000 is not between 0 and 65535"),
        (["--fault-rate", "2"], "--fault-rate 2.0 is not between 0 and 1"),
        (["--max-rps", "0"], "--max-rps 0.0 must be above 0"),
        (["--latest", "20250601"], "argument --latest: '20250601' is not a date as YYYY-MM-DD"),
    ],
)
def test_bad_arguments_are_refused_with_usage(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_options_reach_the_server():
    args = parse_args(
        ["0", "tok", "--max-rps", "5", "--fault-rate", "0.1", "--no-chart", "EE", "--latest", "2025-06-01"]
    )
    server = serve(args)
    try:
        assert (server.token, server.max_rps, server.fault_rate) == ("tok", 5.0, 0.1)
        assert server.no_chart == {"ee"} and str(server.latest) == "2025-06-01"
    finally:
        server.server_close()


def test_started_by_hand_it_serves_charts_behind_its_token():
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE, "0", "hand-token", "--no-chart", "ee", "--latest", "2017-01-05"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = json.loads(proc.stdout.readline())
        assert started["token"] == "hand-token"

        def get(path: str, token: str) -> int:
            request = urllib.request.Request(started["url"] + path, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    assert json.loads(answer.read())["entries"]
                    return answer.status
            except urllib.error.HTTPError as exc:
                return exc.code

        # (early dates: the sample market is simulated from 2017 on, day by day, on first use)
        assert get("/auth/v0/charts/regional-global-daily/2017-01-05", "hand-token") == 200
        assert get("/auth/v0/charts/regional-global-daily/2017-01-05", "wrong") == 401
        assert get("/auth/v0/charts/regional-ee-daily/2017-01-05", "hand-token") == 404  # --no-chart
        assert get("/auth/v0/charts/regional-global-daily/2017-01-06", "hand-token") == 404  # after --latest
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
