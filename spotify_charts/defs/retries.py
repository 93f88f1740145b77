"""Retries where they belong: a step that fails on a transient fault (S3 5xx, a dropped warehouse
connection, a lock timeout) runs again, a few times, further apart each time; a step that fails for
a reason that would fail again (a bad payload, a failed blocking check, an SQL error) fails once.

Dagster's RetryPolicy retries any exception, so the assets that touch the store or the warehouse
run their body inside `permanent_failures_not_retried()`, which turns a permanent failure into a
`dg.Failure(allow_retries=False)`; `spotify_charts.failures.is_transient` decides which is which.
Run-level retries (deploy/dagster.yaml, `run_retries`) only restart runs whose worker died.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from spotify_charts.failures import is_transient

# 3 more attempts, after ~15 s, ~30 s and ~60 s (+-50% jitter): a restarting database or a throttled
# bucket has time to come back; a run stuck on a real outage fails within about two minutes.
TRANSIENT_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@contextmanager
def permanent_failures_not_retried() -> Iterator[None]:
    """Let transient errors through (the retry policy runs the step again); fail permanently otherwise."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(
            description=f"{type(exc).__name__}: {exc} (not a transient fault: not retried)",
            allow_retries=False,
        ) from exc
