"""What only a fresh Python process shows: the sample's bytes do not depend on the process or the
order of calls, and a load never imports pandas."""

import datetime as dt
import hashlib
import json
import subprocess
import sys

from spotify_charts.sources.sample import SampleSource


def _digest(alias: str, day: dt.date) -> str:
    return hashlib.sha256(SampleSource().fetch(alias, day).body).hexdigest()


def test_same_alias_and_date_give_identical_bytes_in_another_process_and_order():
    wanted = [("regional-ee-daily", dt.date(2024, 3, 1)), ("regional-is-daily", dt.date(2023, 12, 24))]
    here = {f"{a}/{d}": _digest(a, d) for a, d in wanted}
    code = (
        "import datetime as dt, hashlib, json\n"
        "from spotify_charts.sources.sample import SampleSource\n"
        f"wanted = {[(a, d.isoformat()) for a, d in reversed(wanted)]!r}\n"
        "print(json.dumps({f'{a}/{d}': hashlib.sha256(SampleSource().fetch(a, dt.date.fromisoformat(d)).body)"
        ".hexdigest() for a, d in wanted}))\n"
    )
    there = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True).stdout)
    assert there == here


def test_a_load_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas on its first pa.array()/to_numpy()/pa.scalar(): 0.2 s of CPU in every
    process that loads staging, 8% of a year's load. The loader builds its arrays without them."""
    script = (
        "import datetime as dt, sys\n"
        "from spotify_charts.ingest import fetch_snapshots, load_staging\n"
        "from spotify_charts.sources.sample import SampleSource\n"
        "from spotify_charts.storage.local import LocalFileStore\n"
        "from spotify_charts.warehouses.duckdb import DuckDBWarehouse\n"
        "store, aliases = LocalFileStore(sys.argv[1]), ['regional-global-daily', 'regional-ee-daily']\n"
        "dates = [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]\n"
        "fetch_snapshots(SampleSource(), store, aliases, dates)\n"
        "assert 'pandas' not in sys.modules, 'imported before the load'\n"
        "report = load_staging(store, DuckDBWarehouse(sys.argv[2]), aliases, dates, 'sample')\n"
        "print(report.entry_rows, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "raw"), str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["500", "False"]


def test_call_order_does_not_change_the_bytes():
    """Forward, backward and shuffled runs (each in a fresh process, so nothing is cached yet) give
    the same bytes: a date far back is simulated again from a checkpoint, not from the last state."""
    aliases = ["regional-global-daily", "regional-ee-daily"]
    days = [dt.date(2019, 3, 1), dt.date(2019, 3, 2), dt.date(2021, 7, 9), dt.date(2024, 12, 31), dt.date(2025, 1, 1)]
    wanted = [(a, d.isoformat()) for d in days for a in aliases]
    code = (
        "import datetime as dt, hashlib, json, random, sys\n"
        "from spotify_charts.sources.sample import SampleSource\n"
        "wanted = [tuple(w) for w in json.loads(sys.argv[1])]\n"
        "shuffled = random.Random(7).sample(wanted, len(wanted))\n"
        "order = {'forward': wanted, 'backward': wanted[::-1], 'shuffled': shuffled}[sys.argv[2]]\n"
        "print(json.dumps({f'{a}/{d}': hashlib.sha256(SampleSource().fetch(a, dt.date.fromisoformat(d)).body)"
        ".hexdigest() for a, d in order}))\n"
    )
    runs = {
        how: json.loads(
            subprocess.run(
                [sys.executable, "-c", code, json.dumps(wanted), how], capture_output=True, check=True, text=True
            ).stdout
        )
        for how in ("forward", "backward", "shuffled")
    }
    assert len(runs["forward"]) == len(wanted)
    assert runs["backward"] == runs["forward"] and runs["shuffled"] == runs["forward"]
    # And within one process: going back after going forward gives the first answer again.
    late, early = _digest(aliases[1], days[-1]), _digest(aliases[1], days[0])
    assert (early, late) == (runs["forward"][f"{aliases[1]}/{days[0]}"], runs["forward"][f"{aliases[1]}/{days[-1]}"])
