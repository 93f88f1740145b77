"""The payload parser: real and sample payloads to staging rows; bad snapshots named with the problem."""

import datetime as dt
import gzip
import json

import orjson
import pytest

from spotify_charts.snapshots import Snapshot, SnapshotError
from spotify_charts.snapshots.arrow import CHART_ENTRIES_SCHEMA, CHART_ENTRY_ARTISTS_SCHEMA, parse_snapshots
from spotify_charts.snapshots.files import encode_snapshot, snapshot_source
from spotify_charts.sources.sample import sample_chart
from spotify_charts_tests.support.helpers import gz

DAY = dt.date(2023, 1, 26)


def snap(
    data: bytes, location: str = "raw/x/2023-01-26.json.gz", chart: str = "regional-global-weekly", source: str = "api"
) -> Snapshot:
    return Snapshot(chart, DAY, source, location, data)


def test_real_capture_lacking_optional_fields(real_payload_bytes):
    tables = parse_snapshots([snap(gz(real_payload_bytes))])
    rows = tables.entries.to_pylist()
    assert tables.entries.schema == CHART_ENTRIES_SCHEMA
    assert len(rows) == 12
    first = rows[0]
    assert first["chart_id"] == "regional-global-weekly" and first["chart_date"] == DAY
    assert (first["rank"], first["track_id"], first["track_name"]) == (1, "0yLdNVWF3Srea0uzk55zFn", "Flowers")
    assert first["artist_names"] == "Miley Cyrus" and first["label_names"] == "Columbia"
    assert first["streams"] == 115156896 and first["previous_rank"] == 1
    assert first["peak_date"] == dt.date(2023, 1, 19) and first["release_date"] == dt.date(2023, 1, 13)
    assert first["source"] == "api"
    payload = json.loads(real_payload_bytes)
    for row, entry in zip(rows, payload["entries"]):
        assert row["rank"] == entry["chartEntryData"]["currentRank"]
        assert row["artist_names"] == ", ".join(a["name"] for a in entry["trackMetadata"]["artists"])
    artists = tables.artists.to_pylist()
    assert tables.artists.schema == CHART_ENTRY_ARTISTS_SCHEMA
    assert len(artists) == sum(len(e["trackMetadata"]["artists"]) for e in payload["entries"])
    multi = [a for a in artists if a["rank"] == next(r["rank"] for r in rows if ", " in r["artist_names"])]
    assert [a["artist_position"] for a in multi] == list(range(1, len(multi) + 1))


def test_sample_payload_quirks_become_nulls():
    payload = sample_chart("regional-global-daily", dt.date(2017, 1, 2))
    payload["entries"][0]["trackMetadata"]["releaseDate"] = "1994"  # year-only precision
    payload["entries"][1]["trackMetadata"].pop("releaseDate")
    payload["entries"][2]["chartEntryData"]["previousRank"] = -1
    payload["entries"][3]["unexpected"] = {"new": "field"}
    rows = parse_snapshots([snap(gz(orjson.dumps(payload)), chart="regional-global-daily")]).entries.to_pylist()
    assert len(rows) == 200
    assert rows[0]["release_date"] is None and rows[1]["release_date"] is None
    assert rows[2]["previous_rank"] is None
    assert all(row["streams"] > 0 for row in rows)


def test_many_snapshots_keep_their_own_chart_and_date():
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(120)]
    snapshots = [
        Snapshot(alias, day, "sample", f"{alias}/{day}", gz(orjson.dumps(sample_chart(alias, day))))
        for day in days
        for alias in ("regional-global-daily", "regional-ee-daily")
    ]
    entries = parse_snapshots(snapshots).entries
    assert entries.num_rows == 120 * 250
    keys = set(
        zip(
            entries.column("chart_id").to_pylist(),
            entries.column("chart_date").to_pylist(),
            entries.column("rank").to_pylist(),
        )
    )
    assert len(keys) == entries.num_rows
    assert ("regional-ee-daily", days[-1], 50) in keys and ("regional-ee-daily", days[-1], 51) not in keys


def test_pretty_printed_payload_is_accepted(real_payload_bytes):
    pretty = json.dumps(json.loads(real_payload_bytes), indent=2, ensure_ascii=False).encode()
    assert parse_snapshots([snap(gz(pretty))]).entries.num_rows == 12


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"entries": []}', "not a gzip file"),
        (gz(b'{"entries": [}'), "not valid JSON"),
        (gz(b'{"displayChart": {}}'), "no 'entries'"),
        (gz(b'{"entries": {"a": 1}}'), "not a list"),
    ],
)
def test_corrupt_snapshot_is_named(real_payload_bytes, data, problem):
    good = snap(gz(real_payload_bytes), location="good.json.gz")
    with pytest.raises(SnapshotError) as err:
        parse_snapshots([good, snap(data, location="data/raw/bad.json.gz")])
    assert err.value.location == "data/raw/bad.json.gz"
    assert problem in str(err.value)


def _mutated(real_payload_bytes, change):
    payload = json.loads(real_payload_bytes)
    change(payload["entries"])
    return gz(json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e[3]["chartEntryData"].__setitem__("currentRank", 1), "rank 1 appears more than once"),
        (lambda e: e[2]["chartEntryData"].pop("currentRank"), "currentRank"),
        (lambda e: e[5]["trackMetadata"].pop("trackUri"), "no track URI"),
        (lambda e: e[5]["chartEntryData"]["rankingMetric"].__setitem__("value", "12k"), "non-numeric"),
    ],
)
def test_invalid_entries_are_named(real_payload_bytes, change, problem):
    with pytest.raises(SnapshotError) as err:
        parse_snapshots([snap(_mutated(real_payload_bytes, change), location="bad.json.gz")])
    assert err.value.location == "bad.json.gz"
    assert problem in str(err.value)


def test_unknown_source_is_refused(real_payload_bytes):
    with pytest.raises(SnapshotError, match="unknown source"):
        parse_snapshots([snap(gz(real_payload_bytes), source="ftp")])


def test_no_snapshots_give_empty_tables():
    tables = parse_snapshots([])
    assert tables.entries.num_rows == 0 and tables.entries.schema == CHART_ENTRIES_SCHEMA


def test_snapshot_records_its_source_in_the_gzip_header():
    body = orjson.dumps(sample_chart("regional-ee-daily", dt.date(2024, 1, 1)))
    data = encode_snapshot(body, "csv")
    assert gzip.decompress(data) == body  # the payload is untouched
    assert snapshot_source(data) == "csv"
    assert encode_snapshot(body, "csv") == data  # deterministic bytes
    assert snapshot_source(gzip.compress(body)) is None
    assert snapshot_source(b"not gzip") is None
    with pytest.raises(ValueError, match="unknown source"):
        encode_snapshot(body, "ftp")
