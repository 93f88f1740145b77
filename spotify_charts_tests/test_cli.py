import datetime as dt
import subprocess
import sys

import pytest

from spotify_charts.cli import DateRangeError, demo_window

TODAY = dt.date(2026, 11, 24)


def test_default_window_is_the_365_days_ending_yesterday():
    assert demo_window(None, None, TODAY) == (dt.date(2025, 11, 24), dt.date(2026, 11, 23))
    assert demo_window("2024-01-01", "2024-12-31", TODAY) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2016-12-31", "2017-01-05", "before the first Spotify daily charts"),
        ("2026-11-01", "2026-11-24", "in the future"),
        ("2024-13-01", None, "is not a date"),
        ("2024-02-01", "2024-01-01", "is after END"),
    ],
)
def test_bad_windows_say_what_is_wrong(start, end, message):
    with pytest.raises(DateRangeError, match=message):
        demo_window(start, end, TODAY)


def test_demo_refuses_bad_input_before_writing(tmp_path):
    env = {"SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"), "SPOTIFY_CHARTS_REGIONS": "us,zz", "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "spotify_charts.cli", "demo", "--start", "2024-01-01", "--end", "2024-01-02"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2 and "'zz'" in result.stderr
    assert not (tmp_path / "data").exists()
