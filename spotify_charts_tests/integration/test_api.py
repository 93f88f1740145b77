"""The charts service client against the local stand-in, over real sockets: every fault alone and
mixed ends with the chart byte-identical to what the stand-in served; 404 is "no chart"; other
failures name the alias, date, status and attempts, never the token; bad payloads are refused."""

from __future__ import annotations

import datetime as dt
import threading

import orjson
import pytest

from spotify_charts.sources.api import ChartsApiError, ChartsApiSource, RateLimiter, RefreshingToken, _CappedRetry
from spotify_charts.sources.sample import sample_chart
from spotify_charts_tests.support.fake_api import FakeChartsApi

TOKEN = "test-token-s3cr3t"
DAY = dt.date(2025, 6, 1)
ALIAS = "regional-ee-daily"
PATH = f"/auth/v0/charts/{ALIAS}/{DAY}"


@pytest.fixture(scope="module", autouse=True)
def simulated_once():
    # The sample market is simulated day by day from 2017 on first use (seconds); do it before
    # the client's short test timeouts apply.
    sample_chart(ALIAS, DAY)


@pytest.fixture
def api():
    server = FakeChartsApi(TOKEN, slow_seconds=1.0).start()
    yield server
    server.shutdown()
    server.server_close()


def client(server: FakeChartsApi, token=TOKEN, **kwargs) -> ChartsApiSource:
    options = {"backoff_seconds": 0.01, "timeout_seconds": 0.5, "max_retry_after_seconds": 0.05, "max_rps": 0, **kwargs}
    return ChartsApiSource(token, server.url, **options)


def test_a_chart_comes_back_exactly_as_served(api):
    chart = client(api).fetch(ALIAS, DAY)
    assert chart is not None and chart.body == api.served[PATH] and chart.entries == 50
    assert api.requests == [(PATH, 200)]


@pytest.mark.parametrize("fault", ["429", "429-no-retry-after", "500", "502", "503", "slow", "truncated"])
def test_each_transient_fault_is_retried(api, fault):
    api.faults.append(fault)
    chart = client(api).fetch(ALIAS, DAY)
    assert chart is not None and chart.body == api.served[PATH]
    assert len(api.requests) == 2 or fault == "slow"  # a timed-out request is retried too
    assert api.requests[-1] == (PATH, 200)


def test_mixed_faults_then_success(api):
    api.faults.extend(["503", "429", "truncated", "500"])
    chart = client(api).fetch(ALIAS, DAY)
    assert chart.body == api.served[PATH]
    assert [status for _, status in api.requests] == [503, 429, 200, 500, 200]


def test_after_the_configured_attempts_the_error_names_what_failed(api):
    api.faults.extend(["503"] * 10)
    with pytest.raises(ChartsApiError) as failure:
        client(api, attempts=3).fetch(ALIAS, DAY)
    message = str(failure.value)
    assert ALIAS in message and "2025-06-01" in message and "503" in message and "3 request" in message
    assert TOKEN not in message and TOKEN not in repr(client(api))
    assert len(api.requests) == 3


def test_a_region_without_a_chart_is_none(api):
    api.no_chart.add("ee")
    assert client(api).fetch(ALIAS, DAY) is None
    assert api.requests == [(PATH, 404)]


def test_a_rejected_token_fails_at_once_with_the_services_message(api):
    with pytest.raises(ChartsApiError, match="HTTP 401 after 1 request.*invalid or expired token"):
        ChartsApiSource("wrong-token", api.url, backoff_seconds=0.01).fetch(ALIAS, DAY)
    assert len(api.requests) == 1


def test_another_4xx_fails_at_once_naming_the_chart_and_the_services_message(api):
    api.faults.extend(["403", "503"])
    with pytest.raises(ChartsApiError) as failure:
        client(api).fetch(ALIAS, DAY)
    assert str(failure.value) == (
        'regional-ee-daily 2025-06-01: HTTP 403 after 1 request(s): {"error": "this client may not read this chart"}'
    )
    assert api.requests == [(PATH, 403)] and TOKEN not in str(failure.value)


def test_an_invalid_payload_is_refused_naming_the_chart(api, monkeypatch):
    def duplicate_rank(alias, day):
        payload = orjson.loads(FakeChartsApi.body(api, alias, day))
        payload["entries"][1]["chartEntryData"]["currentRank"] = 1
        return orjson.dumps(payload)

    monkeypatch.setattr(api, "body", duplicate_rank)
    with pytest.raises(
        ChartsApiError, match=r"regional-ee-daily 2025-06-01: rank 1 appears more than once \(not stored\)"
    ):
        client(api).fetch(ALIAS, DAY)


def test_latest_date(api):
    api.latest = dt.date(2025, 6, 9)
    assert client(api).latest_date(ALIAS) == dt.date(2025, 6, 9)


def test_retry_after_is_capped():
    class Answer:
        headers = {"Retry-After": "3600"}

        def getheader(self, name, default=None):
            return self.headers.get(name, default)

    retry = _CappedRetry(total=3)
    retry.max_retry_after = 30
    assert retry.get_retry_after(Answer()) == 30
    assert retry.new(total=2).max_retry_after == 30


def refreshing(server: FakeChartsApi) -> RefreshingToken:
    return RefreshingToken(server.client_id, server.client_secret, server.refresh_token, accounts_url=server.url)


def test_oauth_refresh_gets_a_token_and_a_new_one_on_401(api):
    api.expire_every = 3  # the access token dies every 3 requests: a backfill outlives many tokens
    source = client(api, token=refreshing(api))
    days = [DAY + dt.timedelta(days=i) for i in range(7)]
    for day in days:
        sample_chart(ALIAS, day)
    charts = [source.fetch(ALIAS, day) for day in days]
    assert [c.body for c in charts] == [api.served[f"/auth/v0/charts/{ALIAS}/{d}"] for d in days]
    assert api.tokens_issued >= 3
    assert TOKEN not in repr(source) and api.client_secret not in repr(refreshing(api))


def test_a_refused_refresh_token_says_so_without_secrets(api):
    tokens = RefreshingToken(api.client_id, api.client_secret, "stale-refresh-token", accounts_url=api.url)
    with pytest.raises(ChartsApiError, match="token refresh refused: HTTP 400.*invalid_grant") as failure:
        client(api, token=tokens).fetch(ALIAS, DAY)
    assert "stale-refresh-token" not in str(failure.value) and api.client_secret not in str(failure.value)


def test_the_rate_limit_spaces_requests_across_threads():
    """Starts are booked one interval apart, whichever thread asks (a fake clock: no wall time)."""
    now = {"t": 100.0}
    waits: list[float] = []
    limiter = RateLimiter(per_second=50, clock=lambda: now["t"], sleep=waits.append)
    threads = [threading.Thread(target=limiter.wait) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [round(0.02 * i, 6) for i in range(1, 10)]
    now["t"] = 101.0  # a second later the next request starts at once
    limiter.wait()
    assert len(waits) == 9


def test_the_api_source_through_dagster_gives_the_sample_rows_and_never_shows_the_token(
    api, tmp_path, monkeypatch, capfd
):
    """SPOTIFY_CHARTS_SOURCE=api against the stand-in (with faults) produces the same staging rows
    as the sample source, apart from `source`; the token is in no log line and no metadata."""
    import dagster as dg
    import duckdb
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.assets.staging import staging_chart_tables
    from spotify_charts.defs.resources import build_resources

    days = {ASSET_PARTITION_RANGE_START_TAG: "2025-06-01", ASSET_PARTITION_RANGE_END_TAG: "2025-06-02"}
    rows = {}
    for source in ("sample", "api"):
        env = {
            "SPOTIFY_CHARTS_SOURCE": source,
            "SPOTIFY_CHARTS_REGIONS": "global,ee",
            "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / source),
            "SPOTIFY_CHARTS_DUCKDB_PATH": str(tmp_path / source / "w.duckdb"),
            "SPOTIFY_CHARTS_API_URL": api.url,
            "SPOTIFY_CHARTS_TOKEN": TOKEN,
            "SPOTIFY_CHARTS_MAX_RPS": "50",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        api.faults.extend(["429", "503", "truncated"])
        result = dg.materialize([raw_chart_snapshots, staging_chart_tables], resources=build_resources(), tags=days)
        assert result.success
        for event in result.all_events:
            assert TOKEN not in repr(event.event_specific_data)
        assert TOKEN not in repr(result.dagster_run.run_config)
        with duckdb.connect(env["SPOTIFY_CHARTS_DUCKDB_PATH"], read_only=True) as con:
            rows[source] = con.execute(
                "select * exclude (loaded_at, source) from staging.chart_entries order by all"
            ).fetchall()
            assert con.execute("select distinct source from staging.chart_entries").fetchall() == [(source,)]
    assert len(rows["api"]) == 500 and rows["api"] == rows["sample"]
    assert TOKEN not in capfd.readouterr().err


def test_a_backfill_that_fails_midway_keeps_what_it_fetched_and_the_rerun_fetches_only_the_rest(
    api, tmp_path, monkeypatch
):
    """Three days of two charts in one run; one chart keeps failing, so the run fails naming it
    and its attempts. Every other chart stays stored; the re-run asks the service only for the one
    that was missing. Each chart is fetched once and stored byte-identical to what was served."""
    import gzip

    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.assets.staging import staging_chart_tables
    from spotify_charts.defs.resources import build_resources

    env = {
        "SPOTIFY_CHARTS_SOURCE": "api",
        "SPOTIFY_CHARTS_REGIONS": "global,ee",
        "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"),
        "SPOTIFY_CHARTS_DUCKDB_PATH": str(tmp_path / "data" / "w.duckdb"),
        "SPOTIFY_CHARTS_API_URL": api.url,
        "SPOTIFY_CHARTS_TOKEN": TOKEN,
        "SPOTIFY_CHARTS_MAX_RPS": "100",
        "SPOTIFY_CHARTS_MAX_ATTEMPTS": "3",
        "SPOTIFY_CHARTS_BACKOFF_SECONDS": "0.01",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    days = {ASSET_PARTITION_RANGE_START_TAG: "2025-06-01", ASSET_PARTITION_RANGE_END_TAG: "2025-06-03"}
    broken = "/auth/v0/charts/regional-global-daily/2025-06-02"
    api.failing.add(broken)
    api.faults.extend(["429", "truncated"])

    first = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables], resources=build_resources(), tags=days, raise_on_error=False
    )
    assert not first.success
    failure = next(e for e in first.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    error = failure.event_specific_data.error
    while error.cause is not None:
        error = error.cause
    assert "regional-global-daily 2025-06-02: HTTP 503 after 3 request(s)" in error.message
    raw = tmp_path / "data" / "raw" / "spotify-charts"
    stored = sorted(str(p.relative_to(raw)) for p in raw.rglob("*.json.gz"))
    assert len(stored) == 5 and "regional-global-daily/2025-06-02.json.gz" not in stored

    api.failing.clear()
    api.requests.clear()
    second = dg.materialize([raw_chart_snapshots, staging_chart_tables], resources=build_resources(), tags=days)
    assert second.success
    assert api.requests == [(broken, 200)]  # nothing else asked for again
    for alias in ("regional-global-daily", "regional-ee-daily"):
        for day in ("2025-06-01", "2025-06-02", "2025-06-03"):
            stored_body = gzip.decompress((raw / alias / f"{day}.json.gz").read_bytes())
            assert stored_body == api.served[f"/auth/v0/charts/{alias}/{day}"]
    materialized = second.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert materialized["charts_fetched"].value == 1 and materialized["charts_reused"].value == 5


def test_a_backfill_with_oauth_outlives_its_tokens_and_shows_no_secret(api, tmp_path, monkeypatch, capfd):
    """The refresh-token settings through Dagster: the access token expires every 3 requests
    during a 3-day backfill of two charts; every chart is stored once, byte-identical, and neither
    the client secret, the refresh token nor any access token appears in a log, event or run config."""
    import gzip

    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.resources import build_resources

    env = {
        "SPOTIFY_CHARTS_SOURCE": "api",
        "SPOTIFY_CHARTS_REGIONS": "global,ee",
        "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"),
        "SPOTIFY_CHARTS_API_URL": api.url,
        "SPOTIFY_ACCOUNTS_URL": api.url,
        "SPOTIFY_CLIENT_ID": api.client_id,
        "SPOTIFY_CLIENT_SECRET": api.client_secret,
        "SPOTIFY_REFRESH_TOKEN": api.refresh_token,
        "SPOTIFY_CHARTS_MAX_RPS": "100",
        "SPOTIFY_CHARTS_BACKOFF_SECONDS": "0.01",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    api.expire_every = 3
    days = {ASSET_PARTITION_RANGE_START_TAG: "2025-06-01", ASSET_PARTITION_RANGE_END_TAG: "2025-06-03"}
    result = dg.materialize([raw_chart_snapshots], resources=build_resources(), tags=days)
    assert result.success
    assert api.tokens_issued >= 2
    raw = tmp_path / "data" / "raw" / "spotify-charts"
    for alias in ("regional-global-daily", "regional-ee-daily"):
        for day in ("2025-06-01", "2025-06-02", "2025-06-03"):
            path = f"/auth/v0/charts/{alias}/{day}"
            assert gzip.decompress((raw / alias / f"{day}.json.gz").read_bytes()) == api.served[path]
            assert [status for p, status in api.requests if p == path].count(200) == 1
    secrets = [api.client_secret, api.refresh_token] + [f"access-{i}" for i in range(1, api.tokens_issued + 1)]
    shown = repr(result.dagster_run.run_config)
    shown += "".join(f"{e.message}{e.event_specific_data!r}" for e in result.all_events)
    shown += capfd.readouterr().err
    assert not [secret for secret in secrets if secret in shown]
