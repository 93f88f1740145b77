"""`.env` is read as data (issue 23, finding 4): the Makefile hands each value to the program as
written, runs nothing from it, and names a malformed line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spotify_charts.settings import SettingError
from spotify_charts.settings.envfile import read_env_file
from spotify_charts_tests.support.helpers import REPO

# A probe target run with the Makefile's own WITH_ENV: what the program it starts receives.
PROBE = "probe: ; $(WITH_ENV) $(PY) -c 'import json, os; print(json.dumps(dict(os.environ)))'"


def make(tmp_path: Path, env_file: Path, *target: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(REPO), f"ENV_FILE={env_file}", f"PY={sys.executable}",
         "--eval", PROBE, *target],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip


VALUES = {
    "SPOTIFY_CLIENT_ID": ("id$(shell touch {marker})x", "id$(shell touch {marker})x"),
    "SPOTIFY_CHARTS_PG_PASSWORD": ("pa$$w0rd#1", "pa$$w0rd#1"),
    "SPOTIFY_CLIENT_SECRET": ("abc$(echo ran)$HOME`id`", "abc$(echo ran)$HOME`id`"),
    "SPOTIFY_CHARTS_ALERT_WEBHOOK": ("'single $quoted # kept'", "single $quoted # kept"),
    "SPOTIFY_CHARTS_S3_PREFIX": ('"double \\"quoted\\" value"', 'double "quoted" value'),
    "SPOTIFY_CHARTS_REGIONS": ("global,ee   # a comment after a space", "global,ee"),
    "SPOTIFY_CHARTS_API_URL": ("'spaces  inside'", "spaces  inside"),
}


def test_make_hands_each_value_over_as_written_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "a-marker-file"
    env_file = tmp_path / ".env"
    lines = ["# comments and blank lines are fine", ""]
    lines += [f"{name}={written.format(marker=marker)}" for name, (written, _) in VALUES.items()]
    lines.append("export SPOTIFY_CHARTS_SOURCE=sample")
    env_file.write_text("\n".join(lines) + "\n")

    done = make(tmp_path, env_file, "probe")

    assert done.returncode == 0, done.stderr
    received = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (_, expected) in VALUES.items():
        assert received[name] == expected.format(marker=marker), name
    assert received["SPOTIFY_CHARTS_SOURCE"] == "sample"
    assert not marker.exists(), "a command in .env ran"
    assert "ran" not in done.stdout.replace(VALUES["SPOTIFY_CLIENT_SECRET"][1], "")


def test_make_parses_without_running_dollar_commands_on_any_target(tmp_path: Path) -> None:
    marker = tmp_path / "a-marker-file"
    env_file = tmp_path / ".env"
    env_file.write_text(f"SPOTIFY_CLIENT_ID=id$(shell touch {marker})x\n")
    # Any target, even one that stops at once: make reads no .env as Makefile source.
    make(tmp_path, env_file, "-n", "demo")
    subprocess.run(["make", "-s", "-C", str(REPO), "-n", "demo"], cwd=tmp_path, capture_output=True, check=False)
    assert not marker.exists()


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SPOTIFY_CHARTS_REGIONS=global\n")
    done = subprocess.run(
        ["make", "-s", "-C", str(REPO), f"ENV_FILE={env_file}", f"PY={sys.executable}", "--eval", PROBE, "probe"],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "SPOTIFY_CHARTS_REGIONS": "ee"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["SPOTIFY_CHARTS_REGIONS"] == "ee"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("A=1\nthis is not a setting\n", 2, "not KEY=value"),
        ("A=1\n\n# c\nB='unterminated\n", 4, "not KEY=value"),
        ("A=1\nLONELY\n", 2, "no '='"),
        ("A-B=1\n", 1, "is not a variable name"),
    ],
)
def test_a_malformed_line_is_named_and_the_command_does_not_start(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    with pytest.raises(SettingError, match=f"line {line}: .*{problem}"):
        read_env_file(env_file)

    done = make(tmp_path, env_file, "probe")
    assert done.returncode != 0
    assert f"{env_file}, line {line}:" in done.stderr
    assert done.stdout == "", "the command ran although .env was malformed"


def test_a_malformed_line_is_never_echoed(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    for pasted in ("sk-live-secret-pasted-alone", "SKLIVESECRET", "sk live secret"):
        env_file.write_text(f"A=1\n{pasted}\n")
        with pytest.raises(SettingError, match="line 2") as caught:
            read_env_file(env_file)
        assert "sk" not in str(caught.value).replace(str(env_file), "").lower(), pasted


def test_no_file_is_no_settings(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}
    done = make(tmp_path, tmp_path / "absent.env", "probe")
    assert done.returncode == 0, done.stderr
