"""The S3 raw store against moto's S3 server over HTTP: the same keys and bytes as the local store,
clear errors naming the object, and the pipeline through Dagster with raw snapshots in a bucket."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3
import dagster as dg
import pytest

from spotify_charts.definitions import defs
from spotify_charts.ingest import fetch_snapshots
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import StoreError, snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts_tests.support.corrupt import CORRUPTIONS, CountingSource, corrupt_bytes
from spotify_charts_tests.support.helpers import ENTRIES, RANGE, all_assets, table_rows
from spotify_charts_tests.support.s3 import CREDENTIALS

DAYS = [dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2025, 6, 3)]
ALIASES = ["regional-global-daily", "regional-ee-daily"]


def objects(bucket: str) -> dict[str, dict]:
    listing = boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: item for item in listing}


def test_a_blob_goes_in_and_comes_back_under_the_prefix(s3_bucket):
    store = S3FileStore(boto3.client("s3"), s3_bucket, prefix="/team/charts/")
    key = snapshot_key("regional-ee-daily", DAYS[0])
    assert not store.exists(key) and store.existing([key]) == set()
    store.write(key, b"\x1f\x8bpayload")
    assert store.read(key) == b"\x1f\x8bpayload" and store.exists(key)
    assert store.uri(key) == f"s3://{s3_bucket}/team/charts/raw/spotify-charts/regional-ee-daily/2025-06-01.json.gz"
    head = boto3.client("s3").head_object(Bucket=s3_bucket, Key="team/charts/" + key)
    assert head["ContentType"] == "application/gzip" and head["ContentLength"] == 9
    store.write(key, b"replaced")  # a refresh overwrites the object whole
    assert store.read(key) == b"replaced" and list(objects(s3_bucket)) == ["team/charts/" + key]


def test_a_missing_object_is_file_not_found_naming_it(s3_bucket):
    store = S3FileStore(boto3.client("s3"), s3_bucket)
    with pytest.raises(FileNotFoundError, match=f"s3://{s3_bucket}/raw/spotify-charts/x/2025-06-01.json.gz"):
        store.read("raw/spotify-charts/x/2025-06-01.json.gz")
    assert store.read_many(["a/1", "a/2"]) == [None, None]


@pytest.mark.parametrize("key", ["../escape", "/absolute", "a//b", "a/./b", "a\\b"])
def test_a_malformed_key_is_refused(s3_bucket, key):
    store = S3FileStore(boto3.client("s3"), s3_bucket)
    with pytest.raises(ValueError, match="malformed"):
        store.write(key, b"x")
    assert objects(s3_bucket) == {}


def test_existing_and_read_many_answer_for_many_keys_in_order(s3_bucket):
    store = S3FileStore(boto3.client("s3"), s3_bucket, prefix="p")
    keys = [f"raw/spotify-charts/{alias}/{n:04d}.json.gz" for alias in ("a", "b") for n in range(600)]
    for key in keys[::3]:
        store.write(key, key.encode())
    store.write("raw/spotify-charts/c/other.json.gz", b"not asked for")
    # 1,200 keys in two folders: each folder is listed (paginated past 1,000 objects), not probed key by key
    assert store.existing(keys) == set(keys[::3])
    assert store.read_many(keys[:6]) == [keys[0].encode(), None, None, keys[3].encode(), None, None]
    # delete takes more keys than one DeleteObjects request (1,000), absent ones included
    store.delete(keys)
    assert list(objects(s3_bucket)) == ["p/raw/spotify-charts/c/other.json.gz"]


def test_the_bucket_missing_or_the_credentials_missing_are_said_plainly(s3_bucket, monkeypatch):
    missing = S3FileStore(boto3.client("s3"), "no-such-bucket-here")
    with pytest.raises(StoreError, match="s3://no-such-bucket-here: the bucket does not exist"):
        missing.exists("raw/x.json.gz")
    with pytest.raises(StoreError, match=r"s3://no-such-bucket-here/raw/x.json.gz: PUT failed: the bucket does not"):
        missing.write("raw/x.json.gz", b"x")

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    anonymous = S3FileStore(boto3.session.Session().client("s3"), s3_bucket)  # a fresh credential lookup
    with pytest.raises(StoreError, match=f"s3://{s3_bucket}/raw/x.json.gz: PUT failed: no AWS credentials found"):
        anonymous.write("raw/x.json.gz", b"x")


def test_the_s3_store_holds_the_same_snapshots_as_the_local_store(s3_bucket, tmp_path):
    local, s3 = LocalFileStore(tmp_path), S3FileStore(boto3.client("s3"), s3_bucket, prefix="prod")
    for store in (local, s3):
        report = fetch_snapshots(SampleSource(), store, ALIASES, DAYS)
        assert report.fetched == 6
    assert fetch_snapshots(SampleSource(), s3, ALIASES, DAYS).reused == 6  # nothing fetched twice
    for alias in ALIASES:
        for day in DAYS:
            key = snapshot_key(alias, day)
            assert s3.read(key) == (tmp_path / key).read_bytes()
    assert len(objects(s3_bucket)) == 6


def test_the_pipeline_with_raw_snapshots_in_s3(s3_bucket, tmp_path, monkeypatch, capfd):
    """SPOTIFY_CHARTS_S3_BUCKET sends raw snapshots and the dashboard to the bucket: staging gets the
    rows a local run gets, a re-run fetches nothing and duplicates nothing, no credential is shown."""
    from spotify_charts.defs.resources import build_resources

    local_db = str(tmp_path / "local.duckdb")
    s3_db = str(tmp_path / "s3.duckdb")
    base = {"SPOTIFY_CHARTS_REGIONS": "global,ee", "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data")}
    selection = dg.AssetSelection.assets(
        "raw_chart_snapshots", ["staging", "chart_entries"], ["staging", "chart_entry_artists"], "dashboard"
    )

    def run(extra: dict[str, str]) -> dg.ExecuteInProcessResult:
        env = {**base, **extra}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = dg.materialize(all_assets(), resources=build_resources(), selection=selection, tags=RANGE)
        assert result.success
        return result

    in_s3 = {
        "SPOTIFY_CHARTS_DUCKDB_PATH": s3_db,
        "SPOTIFY_CHARTS_S3_BUCKET": s3_bucket,
        "SPOTIFY_CHARTS_S3_PREFIX": "prod",
    }
    run({"SPOTIFY_CHARTS_DUCKDB_PATH": local_db})
    first = run(in_s3)
    stored = objects(s3_bucket)
    assert sorted(stored) == sorted(
        [f"prod/{snapshot_key(a, d)}" for a in ALIASES for d in DAYS] + ["prod/dashboard/index.html"]
    )
    for key in stored:
        if key.endswith(".json.gz"):
            assert (
                boto3.client("s3").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
                == (Path(base["SPOTIFY_CHARTS_DATA_DIR"]) / key.removeprefix("prod/")).read_bytes()
            )
    dashboard = first.asset_materializations_for_node("dashboard")[0].metadata
    assert dashboard["path"].value == f"s3://{s3_bucket}/prod/dashboard/index.html"
    assert table_rows(s3_db, ENTRIES) == table_rows(local_db, ENTRIES) and len(table_rows(s3_db, ENTRIES)) == 750

    again = run(in_s3)
    raw = again.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert raw["charts_fetched"].value == 0 and raw["charts_reused"].value == 6
    assert len(table_rows(s3_db, ENTRIES)) == 750

    shown = capfd.readouterr()
    events = "\n".join(str(event) for event in first.all_events + again.all_events)
    for secret in (CREDENTIALS["AWS_SECRET_ACCESS_KEY"], CREDENTIALS["AWS_ACCESS_KEY_ID"]):
        assert secret not in events and secret not in shown.out + shown.err
    assert defs  # the definitions module loads with the S3 settings in the environment


@pytest.mark.parametrize("kind", ["empty", "truncated gzip", "broken payload"])
def test_a_corrupt_snapshot_in_the_bucket_is_kept_aside_and_fetched_again(s3_bucket, kind):
    store = S3FileStore(boto3.client("s3"), s3_bucket, prefix="prod")
    fetch_snapshots(CountingSource(), store, ALIASES, DAYS[:2])
    key = snapshot_key("regional-ee-daily", DAYS[1])
    good = store.read(key)
    bad = corrupt_bytes(kind, good)
    store.write(key, bad)

    source = CountingSource()
    report = fetch_snapshots(source, store, ALIASES, DAYS[:2])
    assert source.fetched == [("regional-ee-daily", DAYS[1])] and report.reused == 3
    assert store.read(key) == good
    (kept,) = [k for k in objects(s3_bucket) if k.startswith("prod/quarantine/")]
    assert kept.endswith("/" + key)
    assert boto3.client("s3").get_object(Bucket=s3_bucket, Key=kept)["Body"].read() == bad
    (entry,) = report.quarantined
    assert entry == {"snapshot": store.uri(key), "kept_at": f"s3://{s3_bucket}/{kept}", "problem": entry["problem"]}
    assert CORRUPTIONS[kind][1] in entry["problem"]
    assert len(objects(s3_bucket)) == 5  # four snapshots and the quarantined copy
