"""The charts service client against the local stand-in, over real sockets: every fault alone and
mixed ends with the chart byte-identical to what the stand-in served; 404 is "no chart"; other
failures name the alias, date, status and attempts, never the token; bad payloads are refused."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from spotify_charts.api import ChartsApiError, ChartsApiSource, _CappedRetry
from spotify_charts.sample import sample_chart
from spotify_charts_tests.fake_api import FakeChartsApi

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


def client(server: FakeChartsApi, **kwargs) -> ChartsApiSource:
    options = {"backoff_seconds": 0.01, "timeout_seconds": 0.5, "max_retry_after_seconds": 0.05, **kwargs}
    return ChartsApiSource(TOKEN, server.url, **options)


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


def test_a_rejected_token_fails_at_once(api):
    with pytest.raises(ChartsApiError, match="HTTP 401"):
        ChartsApiSource("wrong-token", api.url, backoff_seconds=0.01).fetch(ALIAS, DAY)
    assert len(api.requests) == 1


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
