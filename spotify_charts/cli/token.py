"""`make token`: Spotify's authorization-code flow, once, to get a refresh token for your own
developer app; it is written to `.env` as the refresh-token setting (the Makefile loads `.env`).

Needs the client id and secret settings (environment or `.env`), and the redirect URI
http://127.0.0.1:{port}/callback registered in the app's settings. Opens nothing by itself: it
prints the URL to open in a browser, then waits for Spotify to redirect back to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import requests

from spotify_charts import settings

DEFAULT_PORT = 8888


def authorize_url(accounts_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    query = urllib.parse.urlencode(
        {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "state": state}
    )
    return f"{accounts_url.rstrip('/')}/authorize?{query}"


def wait_for_code(port: int, state: str, timeout_seconds: float = 600) -> str:
    """Serve 127.0.0.1:{port}/callback until Spotify redirects there with the code."""
    received: dict[str, str] = {}

    class Callback(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            url = urllib.parse.urlparse(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            ok = url.path == "/callback" and query.get("state") == state and "code" in query
            if ok:
                received["code"] = query["code"]
            elif url.path == "/callback":
                received["error"] = query.get("error", "state mismatch or no code")
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"Done: you can close this tab." if ok else b"Authorisation failed; see the terminal.")

    server = HTTPServer(("127.0.0.1", port), Callback)
    server.timeout = timeout_seconds
    try:
        while not received:
            server.handle_request()
    finally:
        server.server_close()
    if "error" in received:
        raise RuntimeError(f"authorisation failed: {received['error']}")
    return received["code"]


def exchange_code(accounts_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str) -> str:
    response = requests.post(
        f"{accounts_url.rstrip('/')}/api/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=(client_id, client_secret),
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(f"token exchange refused: HTTP {response.status_code}: {response.text[:200]}")
    return response.json()["refresh_token"]


def write_env(path: Path, name: str, value: str) -> None:
    """Set NAME=value in a dotenv file, keeping its other lines; the file is private (0600)."""
    lines = path.read_text().splitlines() if path.exists() else []
    lines = [line for line in lines if not line.startswith(f"{name}=")] + [f"{name}={value}"]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spotify_charts.cli.token", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--env-file", default=".env")
    args = parser.parse_args(argv)
    try:
        client_id, client_secret, accounts = (
            settings.get(s) for s in (settings.CLIENT_ID, settings.CLIENT_SECRET, settings.ACCOUNTS_URL)
        )
    except settings.SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not client_id or not client_secret:
        names = f"{settings.CLIENT_ID.name} and {settings.CLIENT_SECRET.name}"
        print(f"error: set {names} (your developer app's) first", file=sys.stderr)
        return 2
    redirect_uri = f"http://127.0.0.1:{args.port}/callback"
    state = secrets.token_urlsafe(16)
    print(f"Register {redirect_uri} as a redirect URI of your app, then open:\n\n  "
          f"{authorize_url(accounts, client_id, redirect_uri, state)}\n", flush=True)  # fmt: skip
    code = wait_for_code(args.port, state)
    refresh_token = exchange_code(accounts, client_id, client_secret, code, redirect_uri)
    write_env(Path(args.env_file), settings.REFRESH_TOKEN.name, refresh_token)
    print(f"Saved {settings.REFRESH_TOKEN.name} to {args.env_file} (not shown). `make demo` and `make dev` read it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
