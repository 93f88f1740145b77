"""`make token`: the authorization-code flow against the local stand-in of the accounts service,
with a test playing the browser that Spotify redirects back to 127.0.0.1."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest
import requests

from spotify_charts.cli.token import write_env
from spotify_charts_tests.support.fake_api import FakeChartsApi


@pytest.fixture
def accounts():
    server = FakeChartsApi("unused").start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_flow_writes_the_refresh_token_to_env(accounts, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SPOTIFY_CLIENT_ID=app-id\nSPOTIFY_REFRESH_TOKEN=old\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "spotify_charts.cli.token", "--port", str(port), "--env-file", str(env_file)],
        env={"SPOTIFY_CLIENT_ID": accounts.client_id, "SPOTIFY_CLIENT_SECRET": accounts.client_secret,
             "SPOTIFY_ACCOUNTS_URL": accounts.url, "PATH": "/usr/bin"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # the "browser": read the printed URL, then come back the way Spotify would
    url = ""
    while "/authorize?" not in url:
        url = process.stdout.readline()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url.strip()).query))
    assert query["client_id"] == "app-id" and query["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
    for _ in range(50):
        try:
            answer = requests.get(
                f"http://127.0.0.1:{port}/callback", params={"code": accounts.auth_code, "state": query["state"]}
            )
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    assert answer.status_code == 200
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert env_file.read_text() == f"SPOTIFY_CLIENT_ID=app-id\nSPOTIFY_REFRESH_TOKEN={accounts.refresh_token}\n"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert accounts.refresh_token not in out + err  # saved, not shown


def test_without_the_app_it_says_what_to_set(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "spotify_charts.cli.token", "--env-file", str(tmp_path / ".env")],
        env={"PATH": "/usr/bin"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and re.search("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET", result.stderr)
    assert not (tmp_path / ".env").exists()


def test_write_env_replaces_only_its_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1\nSPOTIFY_REFRESH_TOKEN=x\nB=2\n")
    write_env(path, "SPOTIFY_REFRESH_TOKEN", "y")
    assert path.read_text() == "A=1\nB=2\nSPOTIFY_REFRESH_TOKEN=y\n"
