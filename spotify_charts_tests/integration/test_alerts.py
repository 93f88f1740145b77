"""The run-failure sensor: a log line an operator sees, and a JSON alert to a real local webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from spotify_charts.defs.automation.sensors import log_run_failures
from spotify_charts.settings import ALERT_WEBHOOK


@dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2025-01-01"))
def exploding_asset() -> None:
    raise ValueError("the chart service said no")


@pytest.fixture
def webhook():
    """A real HTTP server on 127.0.0.1 that records what it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(self.server.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, received
    server.shutdown()


def failure_context():
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([exploding_asset], instance=instance, partition_key="2025-06-01", raise_on_error=False)
    event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return dg.build_run_status_sensor_context(
        sensor_name="log_run_failures", dagster_event=event, dagster_instance=instance, dagster_run=result.dagster_run
    ).for_run_failure()


def test_failure_is_posted_to_the_webhook(webhook, monkeypatch, capfd):
    server, received = webhook
    url = f"http://127.0.0.1:{server.server_port}/hooks/SECRET-TOKEN"
    monkeypatch.setenv(ALERT_WEBHOOK.name, url)
    context = failure_context()
    capfd.readouterr()
    log_run_failures(context)
    logged = capfd.readouterr().err
    assert "failed: assets exploding_asset, partition 2025-06-01" in logged
    assert len(received) == 1
    alert = received[0]
    assert alert["path"] == "/hooks/SECRET-TOKEN" and alert["type"] == "application/json"
    body = alert["body"]
    assert body["assets"] == ["exploding_asset"] and body["partition"] == "2025-06-01"
    assert "exploding_asset" in body["text"] and "2025-06-01" in body["text"]
    assert body["error"].startswith("exploding_asset: ") and "the chart service said no" in body["error"]
    assert "SECRET-TOKEN" not in logged


def test_a_failing_webhook_is_reported_without_its_url(webhook, monkeypatch, capfd):
    server, received = webhook
    server.status = 500
    monkeypatch.setenv(ALERT_WEBHOOK.name, f"http://127.0.0.1:{server.server_port}/hooks/SECRET-TOKEN")
    context = failure_context()
    capfd.readouterr()
    log_run_failures(context)  # must not raise
    logged = capfd.readouterr().err
    assert len(received) == 1
    assert "alert webhook answered HTTP 500" in logged
    assert "SECRET-TOKEN" not in logged


def test_without_a_webhook_the_failure_is_logged(monkeypatch, capfd):
    monkeypatch.delenv(ALERT_WEBHOOK.name, raising=False)
    context = failure_context()
    capfd.readouterr()
    log_run_failures(context)
    logged = capfd.readouterr().err
    assert "failed: assets exploding_asset, partition 2025-06-01: exploding_asset: " in logged
    assert "the chart service said no" in logged
