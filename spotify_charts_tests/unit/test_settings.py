"""Settings once (spotify_charts/settings): the README's table, the dbt profile's defaults and the product's code
agree with it, and every bad value is refused up front in one line, by the CLI with status 2 and
nothing written."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from spotify_charts import settings
from spotify_charts.cli import demo as cli
from spotify_charts.settings import SETTINGS, SettingError

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bSPOTIFY_[A-Z0-9_]+\b")
# Rows the README documents that the product itself does not read (boto3 and Dagster do).
DOCUMENTED_ELSEWHERE = ("`AWS_REGION`", "`DAGSTER_HOME`")


def readme_table() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Configuration") :]
    start = section.index("| variable | default | meaning |")
    return section[start : section.index("\n\n", start)].splitlines()


def test_the_readme_table_is_made_from_settings():
    rows = readme_table()
    ours = [row for row in rows if not row.startswith(tuple(f"| {name}" for name in DOCUMENTED_ELSEWHERE))]
    assert len(rows) - len(ours) == len(DOCUMENTED_ELSEWHERE)  # each allowed extra row is there, once
    assert "\n".join(ours) == settings.markdown_table(), "regenerate it: python -m spotify_charts.settings"


def test_every_variable_named_anywhere_is_a_setting_and_documented():
    documented = set(NAME.findall("\n".join(readme_table())))
    named_in_code = set()
    for path in [*(REPO / "spotify_charts").rglob("*.py"), REPO / "dbt" / "profiles.yml"]:
        named_in_code |= set(NAME.findall(path.read_text()))
    assert named_in_code == set(settings.BY_NAME)  # in the code, not in SETTINGS: fails here
    deployment = [REPO / "Makefile", REPO / "Dockerfile", *(REPO / "terraform").glob("*.tf")]
    assert set(NAME.findall("".join(p.read_text() for p in deployment))) <= set(settings.BY_NAME)
    assert documented == set(settings.BY_NAME)  # in the README, not in SETTINGS (or the reverse): fails here


def test_variable_names_are_written_only_in_the_settings_module():
    outside = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in (REPO / "spotify_charts").rglob("*.py")
        if path.relative_to(REPO).as_posix() != "spotify_charts/settings/__init__.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NAME.search(line)
    ]
    assert outside == []


def test_the_dbt_profile_falls_back_to_the_settings_defaults():
    profile = (REPO / "dbt" / "profiles.yml").read_text()
    fallbacks = dict(re.findall(r"env_var\('(SPOTIFY_[A-Z_]+)', '([^']*)'\)", profile))
    # dbt run by hand starts in dbt/, so its data folder is ../data; a compile needs some host.
    by_hand = {
        "SPOTIFY_CHARTS_DUCKDB_PATH": "../data/warehouse.duckdb",
        "SPOTIFY_CHARTS_REDSHIFT_HOST": "redshift.invalid",
    }
    assert len(fallbacks) >= 13
    for name, fallback in fallbacks.items():
        assert fallback == by_hand.get(name, settings.BY_NAME[name].default), name


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SPOTIFY_CHARTS_SOURCE": "nope"}, "SPOTIFY_CHARTS_SOURCE='nope' is not valid: one of sample, api, csv"),
        (
            {"SPOTIFY_CHARTS_WAREHOUSE": "oracle"},
            "SPOTIFY_CHARTS_WAREHOUSE='oracle' is not valid: one of duckdb, postgres, redshift",
        ),
        ({"SPOTIFY_CHARTS_MAX_RPS": "abc"}, "SPOTIFY_CHARTS_MAX_RPS='abc' is not valid: a number > 0"),
        (
            {"SPOTIFY_CHARTS_MAX_CONCURRENCY": "0"},
            "SPOTIFY_CHARTS_MAX_CONCURRENCY='0' is not valid: a whole number from 1 to 64",
        ),
        (
            {"SPOTIFY_CHARTS_REGIONS": "us,zz"},
            "SPOTIFY_CHARTS_REGIONS='us,zz' is not valid: unknown region code(s) 'zz'; valid codes are: global, ",
        ),
        (
            {"SPOTIFY_CHARTS_START_DATE": "20240301"},
            "SPOTIFY_CHARTS_START_DATE='20240301' is not valid: a date written YYYY-MM-DD",
        ),
        (
            {"SPOTIFY_CHARTS_START_DATE": "2024-W10-1"},
            "SPOTIFY_CHARTS_START_DATE='2024-W10-1' is not valid: a date written YYYY-MM-DD",
        ),
        ({"SPOTIFY_CHARTS_PG_PORT": "99999"}, "SPOTIFY_CHARTS_PG_PORT='99999' is not valid: a whole number from 1 to"),
        ({"SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT": "lots"}, "SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT='lots' is not valid: an"),
        ({"SPOTIFY_CHARTS_DUCKDB_THREADS": "0"}, "SPOTIFY_CHARTS_DUCKDB_THREADS='0' is not valid: a whole number"),
        ({"SPOTIFY_CHARTS_SCHEDULE_CRON": "daily"}, "SPOTIFY_CHARTS_SCHEDULE_CRON='daily' is not valid: a cron"),
        ({"SPOTIFY_CHARTS_ALERT_WEBHOOK": "hooks.example/T0KEN"}, "SPOTIFY_CHARTS_ALERT_WEBHOOK=(hidden) is not"),
        (
            {"SPOTIFY_CHARTS_SOURCE": "api"},
            "SPOTIFY_CHARTS_SOURCE=api needs SPOTIFY_CHARTS_TOKEN, or SPOTIFY_CLIENT_ID",
        ),
        ({"SPOTIFY_CHARTS_SOURCE": "csv"}, "SPOTIFY_CHARTS_SOURCE=csv needs SPOTIFY_CHARTS_CSV_DIR"),
        (
            {"SPOTIFY_CHARTS_WAREHOUSE": "redshift", "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE": "my-role"},
            "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE='my-role' is not valid: the ARN of an IAM role",
        ),
    ],
)
def test_a_bad_setting_is_refused_in_one_line_naming_it_its_value_and_what_is_allowed(env, message):
    with pytest.raises(SettingError) as refused:
        settings.parse(env)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    assert "T0KEN" not in str(refused.value)  # a secret's value is never shown


def test_good_values_are_parsed():
    values = settings.parse(
        {
            "SPOTIFY_CHARTS_MAX_RPS": "2.5",
            "SPOTIFY_CHARTS_REGIONS": " GB, us,gb ,",
            "SPOTIFY_CHARTS_START_DATE": "2024-03-01",
            "SPOTIFY_CHARTS_WAREHOUSE": "DuckDB",
            "SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT": "25%",
            "SPOTIFY_CHARTS_DATA_DIR": "/srv/charts",
        }
    )
    assert values[settings.MAX_RPS] == 2.5 and values["SPOTIFY_CHARTS_MAX_CONCURRENCY"] == 2
    assert values.aliases == ["regional-gb-daily", "regional-us-daily"]
    assert values[settings.START_DATE] == dt.date(2024, 3, 1) and values[settings.WAREHOUSE] == "duckdb"
    assert values.duckdb_path == Path("/srv/charts/warehouse.duckdb")
    assert values.duckdb_temp_dir == Path("/srv/charts/duckdb_temp")
    assert values[settings.DUCKDB_MEMORY_LIMIT] == "25%"
    assert "s3cr3t" not in repr(settings.parse({"SPOTIFY_CHARTS_PG_PASSWORD": "s3cr3t"}))


def test_every_setting_has_a_default_that_parses():
    for setting in SETTINGS:
        assert setting.read({}) is None or setting.default is not None, setting.name


def test_a_data_folder_that_cannot_be_written_is_named_before_anything_runs(tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    with pytest.raises(SettingError, match=f"^SPOTIFY_CHARTS_DATA_DIR: {in_the_way} is a file, not a folder; set"):
        settings.load({"SPOTIFY_CHARTS_DATA_DIR": str(in_the_way / "data")})
    with pytest.raises(SettingError, match="^SPOTIFY_CHARTS_DUCKDB_TEMP_DIR: "):
        settings.load({"SPOTIFY_CHARTS_DATA_DIR": str(tmp_path), "SPOTIFY_CHARTS_DUCKDB_TEMP_DIR": str(in_the_way)})
    # with a bucket and another warehouse nothing local is written, so nothing local is checked
    remote = {"SPOTIFY_CHARTS_S3_BUCKET": "b", "SPOTIFY_CHARTS_WAREHOUSE": "postgres"}
    assert settings.load({**remote, "SPOTIFY_CHARTS_DATA_DIR": str(in_the_way / "data")})
    assert settings.load({"SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "new" / "data")})  # creatable
    assert not (tmp_path / "new").exists()  # checking wrote nothing


BAD_COMMANDS = [
    ({"SPOTIFY_CHARTS_SOURCE": "nope"}, [], "SPOTIFY_CHARTS_SOURCE='nope' is not valid: one of sample, api, csv"),
    (
        {"SPOTIFY_CHARTS_WAREHOUSE": "oracle"},
        [],
        "SPOTIFY_CHARTS_WAREHOUSE='oracle' is not valid: one of duckdb, postgres, redshift",
    ),
    ({"SPOTIFY_CHARTS_MAX_RPS": "abc"}, [], "SPOTIFY_CHARTS_MAX_RPS='abc' is not valid: a number > 0"),
    (
        {"SPOTIFY_CHARTS_MAX_CONCURRENCY": "0"},
        [],
        "SPOTIFY_CHARTS_MAX_CONCURRENCY='0' is not valid: a whole number from 1 to 64",
    ),
    (
        {"SPOTIFY_CHARTS_REGIONS": "us,zz"},
        [],
        "SPOTIFY_CHARTS_REGIONS='us,zz' is not valid: unknown region code(s) 'zz'",
    ),
    (
        {"SPOTIFY_CHARTS_START_DATE": "20240301"},
        [],
        "SPOTIFY_CHARTS_START_DATE='20240301' is not valid: a date written YYYY-MM-DD",
    ),
    ({}, ["--start", "20240301"], "START='20240301' is not valid: a date written YYYY-MM-DD"),
    ({}, ["--end", "2024-W10-1"], "END='2024-W10-1' is not valid: a date written YYYY-MM-DD"),
]


@pytest.mark.parametrize(("env", "args", "message"), BAD_COMMANDS)
def test_the_demo_command_refuses_a_bad_setting_with_status_2_and_writes_nothing(
    env, args, message, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    launched = []
    # No Dagster process may start: the demo starts it with Popen (and nothing with run).
    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: launched.append(a))
    monkeypatch.setattr(cli.subprocess, "run", lambda *a, **k: launched.append(a))
    assert cli.main(["demo", *(args or ["--start", "2024-01-01", "--end", "2024-01-02"])]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"error: {message}") and stderr.count("\n") == 1
    assert launched == [] and list(tmp_path.iterdir()) == []


def test_the_demo_command_names_a_data_folder_it_cannot_write(tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "a-file" / "data"))
    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: pytest.fail("launched a run"))
    monkeypatch.setattr(cli.subprocess, "run", lambda *a, **k: pytest.fail("launched a run"))
    assert cli.main(["demo", "--start", "2024-01-01", "--end", "2024-01-02"]) == 2
    problem = f"{tmp_path / 'a-file'} is a file, not a folder; set it to a folder this user can write"
    assert capsys.readouterr().err == f"error: SPOTIFY_CHARTS_DATA_DIR: {problem}\n"
