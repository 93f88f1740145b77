import datetime as dt
import os

import pytest

from spotify_charts.storage import StoreError, snapshot_key
from spotify_charts.storage.local import LocalFileStore


def test_snapshot_key_layout():
    assert (
        snapshot_key("regional-us-daily", dt.date(2024, 2, 29))
        == "raw/spotify-charts/regional-us-daily/2024-02-29.json.gz"
    )


def test_write_and_read(tmp_path):
    store = LocalFileStore(tmp_path)
    key = snapshot_key("regional-us-daily", dt.date(2024, 1, 1))
    assert not store.exists(key)
    store.write(key, b"payload")
    assert store.exists(key) and store.read(key) == b"payload"
    assert (tmp_path / key).read_bytes() == b"payload"
    assert store.uri(key) == str(tmp_path / key)
    assert (tmp_path / key).stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
    # no temporary file left behind
    assert [p.name for p in (tmp_path / key).parent.iterdir()] == ["2024-01-01.json.gz"]
    with pytest.raises(FileNotFoundError):
        store.read(snapshot_key("regional-us-daily", dt.date(2024, 1, 2)))


def test_failed_write_keeps_the_previous_blob_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    store = LocalFileStore(tmp_path)
    store.write("a/b.bin", b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError, match=f"^disk full: cannot write {tmp_path}/a/b.bin$"):
        store.write("a/b.bin", b"new")
    assert store.read("a/b.bin") == b"old"
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../b", "a//b", "a\\b"])
def test_keys_cannot_escape_the_folder(tmp_path, key):
    with pytest.raises(ValueError, match="escapes"):
        LocalFileStore(tmp_path / "data").write(key, b"x")
