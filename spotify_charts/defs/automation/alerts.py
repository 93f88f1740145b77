"""Failure alerts: a JSON message POSTed to a webhook (Slack-style incoming webhooks and the like;
the song signals' messages are POSTed the same way).

Plain module (no Dagster import). The webhook URL often carries a secret token, so it never
appears in a log line, an exception message or metadata.
"""

from __future__ import annotations

import requests

TIMEOUT_SECONDS = 10


def failure_message(run_id: str, job: str, assets: list[str], partition: str | None, error: str) -> dict:
    """The alert's JSON body; `text` is what chat tools show."""
    where = f"assets {', '.join(assets)}" if assets else f"job {job}"
    text = f"spotify-charts run {run_id} failed: {where}, partition {partition or '-'}: {error}"
    return {
        "text": text[:3000],
        "run_id": run_id,
        "job": job,
        "assets": assets,
        "partition": partition,
        "error": error[:3000],
    }


def post_alert(url: str, message: dict, webhook: str = "alert webhook") -> str | None:
    """POST the message; returns None on success, else what went wrong, naming the `webhook`
    (never its URL)."""
    try:
        response = requests.post(url, json=message, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return f"{webhook} unreachable ({type(exc).__name__})"
    if response.status_code >= 300:
        return f"{webhook} answered HTTP {response.status_code}"
    return None
