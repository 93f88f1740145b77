"""A local stand-in for the Spotify Charts service: the sample charts over real HTTP on 127.0.0.1,
at the real paths, behind a bearer token, with faults on demand.

Faults are queued per request (`server.faults.append("429")`) or set by rate:
  "429" (with Retry-After: 1), "429-no-retry-after", "500", "502", "503", "slow" (sleeps past
  the client timeout), "truncated" (half the body, then the connection closes), "401", "403"
  (a refusal that is not about the token: the client must fail at once with the message).
A region listed in `server.no_chart` answers 404; a path in `server.failing` answers 503 until removed.

Run by hand: `python -m spotify_charts_tests.support.fake_api [PORT] [TOKEN] [options]` (`--help`
lists the options); it prints `{"url": ..., "token": ...}` as one JSON line, then serves until stopped.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from spotify_charts.sources.sample.simulation import sample_chart

CHART_PATH = re.compile(r"^/auth/v0/charts/(?P<alias>[a-z0-9-]+)/(?P<date>\d{4}-\d{2}-\d{2}|latest)$")


class FakeChartsApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token: str, port: int = 0, slow_seconds: float = 3.0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.token = token
        # the accounts service: POST /api/token with the refresh-token grant
        self.client_id, self.client_secret, self.refresh_token = "app-id", "app-secret", "refresh-me"
        self.auth_code = "code-from-the-browser"
        self.tokens_issued = 0
        self.expire_every: int | None = None  # the access token expires after this many chart requests
        self._uses = 0
        self.faults: deque[str] = deque()
        self.no_chart: set[str] = set()
        self.failing: set[str] = set()
        self.slow_seconds = slow_seconds
        self.latest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        self.served: dict[str, bytes] = {}  # path -> body of the last 200 answer
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self.lock = threading.Lock()
        # benchmark mode: transient faults at random, and the service's own rate limit
        self.fault_rate = 0.0
        self.max_rps: float | None = None
        self._allowance_at = time.monotonic()
        self._random = random.Random(7)
        self.bodies: dict[tuple[str, dt.date], bytes] = {}  # prepared answers (skips the simulation)

    def handle_error(self, request, client_address) -> None:
        # A client that timed out on a "slow" fault hangs up before the answer: expected here.
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeChartsApi:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def body(self, alias: str, day: dt.date) -> bytes:
        if (alias, day) in self.bodies:
            return self.bodies[(alias, day)]
        return orjson.dumps(sample_chart(alias, day))

    def next_fault(self) -> str | None:
        """A queued fault, else (benchmark mode) 429 over the rate limit or a random transient one."""
        with self.lock:
            if self.faults:
                return self.faults.popleft()
            if self.max_rps:
                now = time.monotonic()
                if now < self._allowance_at:
                    return "429"
                self._allowance_at = max(now, self._allowance_at) + 1.0 / self.max_rps - 0.002
            if self.fault_rate and self._random.random() < self.fault_rate:
                return self._random.choice(["500", "502", "503", "truncated"])
        return None


class _Handler(BaseHTTPRequestHandler):
    server: FakeChartsApi
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        with self.server.lock:
            self.server.requests.append((self.path, status))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        server = self.server
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        expected = base64.b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()
        if self.path != "/api/token" or self.headers.get("Authorization") != f"Basic {expected}":
            return self._answer(400, b'{"error": "invalid_client"}')
        by_code = form.get("grant_type") == ["authorization_code"] and form.get("code") == [server.auth_code]
        by_refresh = form.get("grant_type") == ["refresh_token"] and form.get("refresh_token") == [server.refresh_token]
        if not (by_code or by_refresh):
            return self._answer(400, b'{"error": "invalid_grant"}')
        with server.lock:
            server.tokens_issued += 1
            server.token = f"access-{server.tokens_issued}"
            server._uses = 0
        body = {"access_token": server.token, "token_type": "Bearer", "expires_in": 3600}
        if by_code:
            body["refresh_token"] = server.refresh_token
        self._answer(200, json.dumps(body).encode())

    def do_GET(self) -> None:  # noqa: N802
        server = self.server
        with server.lock:
            if server.expire_every and server._uses >= server.expire_every:
                server.token = "expired"
            server._uses += 1
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            return self._answer(401, b'{"error": "invalid or expired token"}')
        match = CHART_PATH.match(self.path)
        if not match:
            return self._answer(404, b'{"error": "no such path"}')
        if self.path in server.failing:
            return self._answer(503, b'{"error": "service unavailable"}')
        fault = self.server.next_fault()
        if fault == "401":
            return self._answer(401, b'{"error": "token expired"}')
        if fault == "403":
            return self._answer(403, b'{"error": "this client may not read this chart"}')
        if fault in ("429", "429-no-retry-after"):
            headers = {"Retry-After": "1"} if fault == "429" else {}
            return self._answer(429, b'{"error": "rate limited"}', headers)
        if fault in ("500", "502", "503"):
            return self._answer(int(fault), b'{"error": "server error"}')
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        alias = match["alias"]
        region = alias.removeprefix("regional-").removesuffix("-daily")
        day = self.server.latest if match["date"] == "latest" else dt.date.fromisoformat(match["date"])
        if region in self.server.no_chart or day > self.server.latest:
            return self._answer(404, b'{"error": "chart not found"}')
        body = self.server.body(alias, day)
        if fault == "truncated":
            with self.server.lock:
                self.server.requests.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        with self.server.lock:
            self.server.served[self.path] = body
        self._answer(200, body)


def _date(text: str) -> dt.date:
    """Exactly YYYY-MM-DD (Python's fromisoformat would also take 20250601)."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m spotify_charts_tests.support.fake_api",
        description="A local stand-in for the Spotify Charts service (sample charts over HTTP on 127.0.0.1). "
        'Prints {"url": ..., "token": ...} as one JSON line, then serves until stopped.',
    )
    parser.add_argument(
        "port", nargs="?", type=int, default=8765, help="port on 127.0.0.1 (0: any free port; default 8765)"
    )
    parser.add_argument(
        "token", nargs="?", default="local-token", help="the bearer token it accepts (default local-token)"
    )
    parser.add_argument("--max-rps", type=float, default=None, metavar="R", help="answer 429 above R requests/s")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, metavar="P",
        help="share of requests (0 to 1) answered with a transient fault (500, 502, 503 or a truncated body)",
    )  # fmt: skip
    parser.add_argument("--slow-seconds", type=float, default=3.0, metavar="S", help="how long a 'slow' fault sleeps")
    parser.add_argument(
        "--no-chart", action="append", default=[], metavar="REGION", help="a region code answered with 404 (repeatable)"
    )
    parser.add_argument(
        "--latest", type=_date, default=None, metavar="YYYY-MM-DD",
        help="the latest published chart date (default yesterday, UTC)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"port {args.port} is not between 0 and 65535")
    if not 0 <= args.fault_rate <= 1:
        parser.error(f"--fault-rate {args.fault_rate} is not between 0 and 1")
    if args.max_rps is not None and args.max_rps <= 0:
        parser.error(f"--max-rps {args.max_rps} must be above 0")
    return args


def serve(args: argparse.Namespace) -> FakeChartsApi:
    """The stand-in configured by the command line (not started)."""
    server = FakeChartsApi(token=args.token, port=args.port, slow_seconds=args.slow_seconds)
    server.max_rps, server.fault_rate = args.max_rps, args.fault_rate
    server.no_chart.update(code.lower() for code in args.no_chart)
    if args.latest:
        server.latest = args.latest
    return server


if __name__ == "__main__":
    server = serve(parse_args())
    print(json.dumps({"url": server.url, "token": server.token}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
