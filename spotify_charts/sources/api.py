"""The Spotify Charts service as a chart source: `GET {base}/auth/v0/charts/{alias}/{date}`.

A `requests.Session` with connection pooling; urllib3's `Retry` does the retry mechanics: 429
honours Retry-After (capped), otherwise exponential backoff with jitter; 5xx, timeouts and dropped
connections are retried; a body that is not complete JSON is retried with the same backoff and
never returned. 404 means "no chart for this region and date". Every payload is validated before
it is handed back to be stored. The token never appears in an error message.

Tokens: a static bearer token, or Spotify's OAuth refresh-token grant, exchanged when first
needed and again whenever the service answers 401 (the request is then sent once more). Requests,
retries included, start at most `max_rps` per second across every thread that shares the source
(a run's fetches).

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from spotify_charts import settings
from spotify_charts.snapshots import SnapshotError
from spotify_charts.snapshots.rules import check_payload
from spotify_charts.sources import FetchedChart

DEFAULT_API_URL = settings.get(settings.API_URL, {})  # the settings' defaults, whatever the environment says
DEFAULT_ACCOUNTS_URL = settings.get(settings.ACCOUNTS_URL, {})
RETRY_STATUSES = (429, 500, 502, 503, 504)


class ChartsApiError(RuntimeError):
    """A chart could not be fetched; the message names the alias, date, status and attempts."""


class TokenProvider(Protocol):
    def token(self) -> str: ...

    def renew(self) -> bool:
        """Get a new token after a 401; False when this provider cannot."""
        ...


class StaticToken:
    """A static bearer token (the token setting): used as is, cannot be renewed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def renew(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(***)"


class RefreshingToken:
    """An access token from Spotify's OAuth refresh-token grant, renewed when needed and on 401."""

    def __init__(
        self, client_id: str, client_secret: str, refresh_token: str, accounts_url: str = DEFAULT_ACCOUNTS_URL
    ) -> None:
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._url = accounts_url.rstrip("/") + "/api/token"
        self._access: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RefreshingToken(accounts={self._url!r})"

    def token(self) -> str:
        with self._lock:
            if self._access is None:
                self._access = self._exchange()
            return self._access

    def renew(self) -> bool:
        with self._lock:
            self._access = self._exchange()
        return True

    def _exchange(self) -> str:
        try:
            response = requests.post(
                self._url,
                data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                auth=self._client,
                timeout=30,
            )
        except requests.RequestException as exc:
            raise ChartsApiError(f"token endpoint unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            # the answer names the problem (invalid_grant, invalid_client); it never echoes secrets
            raise ChartsApiError(f"token refresh refused: HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        if body.get("refresh_token"):  # Spotify may rotate it
            self._refresh_token = body["refresh_token"]
        return body["access_token"]


class RateLimiter:
    """At most `per_second` requests started per second, across every thread of a run."""

    def __init__(self, per_second: float, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


class _CappedRetry(Retry):
    """urllib3's Retry with Retry-After capped, so one answer cannot stall a run for hours."""

    max_retry_after: float = 120.0

    def get_retry_after(self, response):  # type: ignore[override]
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)

    def new(self, **kw):  # keep the cap on the copies Retry makes of itself
        copy = super().new(**kw)
        copy.max_retry_after = self.max_retry_after
        return copy


class ChartsApiSource:
    """Chart payloads from the charts service, exactly as it sent them."""

    name = "api"

    def __init__(
        self,
        token: str | TokenProvider,
        base_url: str = DEFAULT_API_URL,
        *,
        max_rps: float = 1.0,
        max_concurrency: int = 2,
        attempts: int = 6,
        backoff_seconds: float = 2.0,
        max_retry_after_seconds: float = 120.0,
        timeout_seconds: float = 30.0,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1 ({settings.MAX_ATTEMPTS.name}), not {attempts}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds
        self.max_concurrency = max_concurrency
        self._tokens = StaticToken(token) if isinstance(token, str) else token
        self._limiter = RateLimiter(max_rps)
        retry = _CappedRetry(
            total=attempts - 1,
            connect=attempts - 1,
            read=attempts - 1,
            status=attempts - 1,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            backoff_factor=backoff_seconds,
            backoff_jitter=backoff_seconds / 2,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        retry.max_retry_after = max_retry_after_seconds
        self._retry = retry
        self.session = requests.Session()
        # No retries inside the adapter: `fetch` drives `retry` itself, so that every attempt
        # passes the rate limiter (and a 401 can renew the token first).
        self.session.mount(self.base_url, HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=max_concurrency))

    def __repr__(self) -> str:  # never the token
        return f"ChartsApiSource(base_url={self.base_url!r})"

    def _get(self, path: str) -> requests.Response:
        """One GET (urllib3 retries transient failures); on 401 a renewed token, once."""
        response = self._send(path)
        if response.status_code == 401 and self._tokens.renew():
            response = self._send(path)
        return response

    def _send(self, path: str) -> requests.Response:
        self._limiter.wait()
        return self.session.get(
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {self._tokens.token()}"},
            timeout=self.timeout,
        )

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart | None:
        """The chart's payload, or None when the service has no chart for that alias and date.

        urllib3's `Retry` counts the attempts and computes every wait (backoff with jitter, or the
        answer's Retry-After, capped); each attempt goes through the run's rate limiter."""
        where = f"{alias} {chart_date.isoformat()}"
        path = f"/auth/v0/charts/{alias}/{chart_date.isoformat()}"
        retry = self._retry.new()
        attempt = 0
        while True:
            attempt += 1
            answer = None
            try:
                response = self._get(path)
                body = response.content
            except requests.RequestException as exc:  # timeouts, dropped connections, cut-off bodies
                problem = type(exc).__name__
            else:
                if response.status_code == 404:
                    return None
                if response.status_code == 200:
                    try:
                        payload = orjson.loads(body)
                    except orjson.JSONDecodeError as exc:
                        problem = f"incomplete or invalid JSON ({exc})"
                    else:
                        try:
                            entries = check_payload(where, payload)
                        except SnapshotError as exc:
                            raise ChartsApiError(f"{exc} (not stored)") from None
                        return FetchedChart(body, entries)
                elif response.status_code in RETRY_STATUSES:
                    problem, answer = f"HTTP {response.status_code}", response.raw
                else:  # other 4xx: at once, with the service's message
                    raise ChartsApiError(
                        f"{where}: HTTP {response.status_code} after {attempt} request(s): {response.text[:300]}"
                    )
            try:
                retry = retry.increment(method="GET", url=path, response=answer)
            except MaxRetryError:
                raise ChartsApiError(f"{where}: {problem} after {attempt} request(s)") from None
            retry.sleep(answer)

    def latest_date(self, alias: str) -> dt.date | None:
        """The newest published chart's date (`displayChart.date` of `/latest`), or None."""
        response = self._get(f"/auth/v0/charts/{alias}/latest")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ChartsApiError(f"{alias} latest: HTTP {response.status_code}: {response.text[:300]}")
        return dt.date.fromisoformat(orjson.loads(response.content)["displayChart"]["date"])
