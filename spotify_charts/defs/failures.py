"""Which failures are transient (worth running the step again) and which are permanent.

Transient: the S3 store answering 5xx, throttling or dropping the connection; the warehouse
connection dropped or timed out; a lock or deadlock timeout; a serialization conflict.
Everything else is permanent: a bad payload or CSV, an unknown region, a failed check, an SQL
error, denied access, a wrong password, a warehouse that refuses connections (nothing listens
there). Running those again gives the same answer, later.

Plain module (no Dagster import); the assets' retry policy uses it (spotify_charts/defs/retries.py).
"""

from __future__ import annotations

from spotify_charts.warehouses.postgres import REFUSED

# Substrings of error messages (lower case) that mean "try again": what S3 (botocore), libpq,
# DuckDB and dbt say for the faults above. A message names its cause; exception types alone do
# not (S3 errors arrive as the store's StoreError, dbt's as one CLI error with dbt's log in it).
TRANSIENT_MARKERS = (
    # S3 and HTTP
    "internalerror",
    "serviceunavailable",
    "slowdown",
    "requesttimeout",
    "throttl",
    "(500)",
    "(502)",
    "(503)",
    "(504)",
    "status code: 500",
    "status code: 502",
    "status code: 503",
    "status code: 504",
    "connection was closed",
    "connection reset",
    "connect timeout",
    "read timeout",
    "endpoint url",  # botocore: could not connect to the endpoint URL
    # PostgreSQL / Redshift (libpq, psycopg2)
    "server closed the connection unexpectedly",
    "terminating connection",
    "connection refused",
    "could not connect to server",
    "connection to server at",  # libpq's prefix of every connect failure; permanent ones are excluded below
    "connection already closed",
    "ssl syscall error",
    "lock timeout",
    "canceling statement due to lock timeout",
    "deadlock detected",
    "could not serialize access",
    "too many connections",
    "the database system is starting up",
    "the database system is shutting down",
    # DuckDB: another process holds the file
    "could not set lock on file",
)

# Connect failures that no retry fixes (a refused connection: nothing listens at that address,
# which minutes of retries would only hide; a restarting server is caught by the next tick or run).
PERMANENT_MARKERS = (
    REFUSED,
    "password authentication failed",
    "no password supplied",
    "does not exist",
    "permission denied",
    "access denied",
    "accessdenied",
    "nosuchbucket",
    "no aws credentials",
    "pg_hba.conf",
)

TRANSIENT_TYPES = (TimeoutError, ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` (or an exception it was raised from) is a fault that may pass by itself."""
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain).lower()
    if any(marker in text for marker in PERMANENT_MARKERS):
        return False
    if any(isinstance(e, TRANSIENT_TYPES) for e in chain):
        return True
    if any(
        type(e).__name__ in ("OperationalError", "InterfaceError") and "connection" in str(e).lower() for e in chain
    ):
        return True
    return any(marker in text for marker in TRANSIENT_MARKERS)
