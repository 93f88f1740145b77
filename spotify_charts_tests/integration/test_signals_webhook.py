"""The song signals webhook: each chart date's signals are POSTed to a real local HTTP server once,
whatever happens after (another tick, a re-run of the date, a daemon restart, a backfill of old
dates); a failing or hanging server costs a warning without the URL, and the next tick retries."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
import pytest

from spotify_charts.defs.automation import alerts
from spotify_charts.defs.automation.sensors import SONG_SIGNALS, song_signals_webhook
from spotify_charts.defs.resources import WarehouseResource
from spotify_charts.settings import SIGNALS_HORIZON_DAYS, SIGNALS_REGIONS, SIGNALS_WEBHOOK
from spotify_charts_tests.support.helpers import HOSTILE_NAMES

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY, TWO_DAYS_AGO, LONG_AGO = (TODAY - dt.timedelta(days=n) for n in (1, 2, 40))
GLOBAL, EE = "regional-global-daily", "regional-ee-daily"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The sensor's "today" is the dates' today, even in a run that passes midnight UTC."""
    from spotify_charts.defs.automation import sensors

    monkeypatch.setattr(sensors, "utc_today", lambda: TODAY)


@pytest.fixture
def webhook():
    """A real HTTP server on 127.0.0.1 that records what it is sent; `status` and `delay` say how
    it answers."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            time.sleep(self.server.delay)
            self.send_response(self.server.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status, server.delay = 200, 0.0
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, received
    server.shutdown()


def signal(chart_id: str, chart_date: dt.date, song_id: str, rule: str, rank: int | None) -> tuple:
    """A row of marts.song_signals."""
    return (chart_id, chart_date, song_id, rule, rank, 12, 1000, 3, f"reason of {song_id}")


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A DuckDB warehouse holding marts.song_signals and marts.dim_songs (as dbt makes them) for
    yesterday, the day before and a date long ago; one song's name is hostile."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.song_signals (chart_id varchar, chart_date date, song_id varchar, signal varchar, "
            "rank integer, previous_rank integer, streams bigint, days_since_debut integer, reason varchar)"
        )
        con.execute("create table marts.dim_songs (song_id varchar, track_name varchar, artist_names varchar)")
        con.executemany(
            "insert into marts.song_signals values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                signal(GLOBAL, YESTERDAY, "a", "top_10_entry", 4),
                signal(GLOBAL, YESTERDAY, "b", "top_10_exit", None),
                signal(EE, YESTERDAY, "a", "spreading", 30),
                signal(GLOBAL, TWO_DAYS_AGO, "c", "climbing", 50),
                signal(GLOBAL, LONG_AGO, "c", "reentry", 70),
            ],
        )
        con.executemany(
            "insert into marts.dim_songs values (?, ?, ?)",
            [("a", HOSTILE_NAMES[2], HOSTILE_NAMES[3]), ("b", "Bee", "Bo"), ("c", "Sea", "Cy")],
        )
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTIFY_CHARTS_DUCKDB_PATH", str(path))
    return path


class Daemon:
    """The sensor as the daemon runs it: an instance recording song_signals' materialisations, and
    the cursor the daemon keeps between ticks (and across its restarts)."""

    def __init__(self):
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None

    def built(self) -> None:
        """A materialisation of marts.song_signals (a dbt build, a re-run, a backfill)."""
        self.instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SONG_SIGNALS))

    def tick(self) -> str:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"warehouse": WarehouseResource()}
        )
        result = song_signals_webhook(context)
        self.cursor = context.cursor
        return result.skip_message


def test_each_date_is_posted_once_whatever_runs_after(webhook, warehouse, monkeypatch, capfd):
    server, received = webhook
    monkeypatch.setenv(SIGNALS_WEBHOOK.name, f"http://127.0.0.1:{server.server_port}/hooks/SECRET-TOKEN")
    daemon = Daemon()
    assert "has not been built yet" in daemon.tick() and received == []

    daemon.built()
    capfd.readouterr()
    assert daemon.tick() == f"posted the signals of {TWO_DAYS_AGO}, {YESTERDAY}"
    # one message per date within the horizon (3 days), oldest first; the date long ago never
    assert [r["body"]["chart_date"] for r in received] == [TWO_DAYS_AGO.isoformat(), YESTERDAY.isoformat()]
    assert {r["path"] for r in received} == {"/hooks/SECRET-TOKEN"}
    assert {r["type"] for r in received} == {"application/json"}
    message = received[1]["body"]
    assert message["text"] == (
        f"Song signals for {YESTERDAY}: 3 on 2 chart(s) (into the top 10 1, out of the top 10 1, "
        "spreading from other charts 1)."
    )
    assert message["charts"] == [EE, GLOBAL]
    assert [(s["chart_id"], s["song_id"], s["signal"], s["rank"]) for s in message["signals"]] == [
        (EE, "a", "spreading", 30),
        (GLOBAL, "a", "top_10_entry", 4),
        (GLOBAL, "b", "top_10_exit", None),
    ]
    # the names travel as data, whole; the text a chat tool renders holds none of them
    first = message["signals"][0]
    assert (first["track_name"], first["artist_names"]) == (HOSTILE_NAMES[2], HOSTILE_NAMES[3])
    assert first["chart_date"] == YESTERDAY.isoformat() and first["reason"] == "reason of a"
    assert "SECRET-TOKEN" not in capfd.readouterr().err

    # the next tick, a re-run of the dates (a new materialisation), a daemon restart (a new
    # process with the saved cursor), a backfill of the old date: nothing is posted again
    assert "is handled" in daemon.tick()
    daemon.built()
    assert daemon.tick() == f"no unposted signals since {TODAY - dt.timedelta(days=3)}"
    restarted = Daemon()
    restarted.instance, restarted.cursor = daemon.instance, daemon.cursor
    daemon.built()
    restarted.tick()
    assert len(received) == 2

    # a new date is posted, alone
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.song_signals values (?, ?, ?, ?, ?, ?, ?, ?, ?)", signal(EE, TODAY, "c", "reentry", 1)
        )
    daemon.built()
    assert restarted.tick() == f"posted the signals of {TODAY}"
    assert [r["body"]["chart_date"] for r in received[2:]] == [TODAY.isoformat()]
    assert json.loads(restarted.cursor)["posted"] == sorted(d.isoformat() for d in (TWO_DAYS_AGO, YESTERDAY, TODAY))


def test_a_failing_or_hanging_webhook_is_retried_by_the_next_tick(webhook, warehouse, monkeypatch, capfd):
    server, received = webhook
    monkeypatch.setenv(SIGNALS_WEBHOOK.name, f"http://127.0.0.1:{server.server_port}/hooks/SECRET-TOKEN")
    monkeypatch.setattr(alerts, "TIMEOUT_SECONDS", 1)
    daemon = Daemon()
    daemon.built()

    server.status = 500  # the first date fails: nothing after it is tried, nothing is marked
    capfd.readouterr()
    assert daemon.tick() == f"signals of {TWO_DAYS_AGO} not posted: signals webhook answered HTTP 500"
    logged = capfd.readouterr().err
    assert f"signals of {TWO_DAYS_AGO} not posted: signals webhook answered HTTP 500; the next tick tries again" in (
        logged
    )
    assert "SECRET-TOKEN" not in logged and "127.0.0.1" not in logged
    assert len(received) == 1

    server.status, server.delay = 200, 3.0  # then it hangs: the request times out
    assert daemon.tick() == f"signals of {TWO_DAYS_AGO} not posted: signals webhook unreachable (ReadTimeout)"
    logged = capfd.readouterr().err
    assert "unreachable (ReadTimeout); the next tick tries again" in logged and "SECRET-TOKEN" not in logged

    assert len(received) == 2

    server.delay = 0.0  # it answers again: both dates go, once each
    received.clear()
    assert daemon.tick() == f"posted the signals of {TWO_DAYS_AGO}, {YESTERDAY}"
    assert daemon.tick().endswith("is handled")
    assert [r["body"]["chart_date"] for r in received] == [TWO_DAYS_AGO.isoformat(), YESTERDAY.isoformat()]


def test_the_chart_filter_and_the_horizon(webhook, warehouse, monkeypatch):
    server, received = webhook
    monkeypatch.setenv(SIGNALS_WEBHOOK.name, f"http://127.0.0.1:{server.server_port}/hook")
    monkeypatch.setenv(SIGNALS_REGIONS.name, "ee")
    monkeypatch.setenv(SIGNALS_HORIZON_DAYS.name, "1")
    daemon = Daemon()
    daemon.built()
    assert daemon.tick() == f"posted the signals of {YESTERDAY}"
    (message,) = (r["body"] for r in received)
    assert message["charts"] == [EE] and [s["signal"] for s in message["signals"]] == ["spreading"]


def test_without_a_url_nothing_is_read_or_posted(warehouse, monkeypatch):
    monkeypatch.delenv(SIGNALS_WEBHOOK.name, raising=False)
    daemon = Daemon()
    daemon.built()
    assert daemon.tick() == f"{SIGNALS_WEBHOOK.name} is not set"
    assert daemon.cursor is None
