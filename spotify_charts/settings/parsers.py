"""The settings' value parsers: text in, a value out, ValueError("what is allowed") otherwise.

`spotify_charts.settings` turns the ValueError into a SettingError naming the variable and its value.
Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from spotify_charts.regions import RegionConfigError, parse_regions


def text(raw: str) -> str:
    return raw


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    allowed = f"a whole number from {minimum} to {maximum}" if maximum is not None else f"a whole number >= {minimum}"

    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(allowed) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(allowed)
        return value

    return parse


def number(minimum: float, exclusive: bool = False) -> Callable[[str], float]:
    allowed = f"a number {'>' if exclusive else '>='} {minimum:g}"

    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(allowed) from None
        if value != value or value < minimum or (exclusive and value == minimum) or value == float("inf"):
            raise ValueError(allowed)
        return value

    return parse


def choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return value

    return parse


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(raw: str) -> dt.date:
    """A date written exactly YYYY-MM-DD (not 20240301, not 2024-W10-1); ValueError otherwise."""
    if not _ISO_DATE.match(raw.strip()):
        raise ValueError("a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("a real date written YYYY-MM-DD") from None


def url(raw: str) -> str:
    if not re.match(r"^https?://[^\s/]+", raw.strip()):
        raise ValueError("an http:// or https:// URL")
    return raw.strip().rstrip("/")


def regions(raw: str) -> tuple[str, ...]:
    try:
        return parse_regions(raw)
    except RegionConfigError as exc:
        raise ValueError(str(exc)) from None


def path(raw: str) -> Path:
    return Path(raw.strip()).expanduser().resolve()


def arn(raw: str) -> str:
    if not raw.strip().startswith("arn:"):
        raise ValueError("the ARN of an IAM role the cluster may assume (arn:aws:iam::...:role/...)")
    return raw.strip()


_CRON_FIELD = re.compile(r"^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?)*$")


def cron(raw: str) -> str:
    fields = raw.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(field) for field in fields):
        raise ValueError("a cron expression of 5 fields (minute hour day month weekday), e.g. '0 23 * * *'")
    return " ".join(fields)


_MEMORY = re.compile(r"^\s*(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$|^\s*(\d+(\.\d+)?)\s*%\s*$", re.I)


def memory(raw: str) -> str:
    match = _MEMORY.match(raw)
    if not match or float(match[1] or match[4]) <= 0 or (match[4] and float(match[4]) > 100):
        raise ValueError("an amount of memory such as 2GB, 512MB or 1.5GiB, or a share of the machine's such as 25%")
    return raw.strip().replace(" ", "")


_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "TIB": 1 << 40,
}


def memory_bytes(value: str) -> int:
    """A memory setting `memory` accepted (`1.5GB`, `512MiB`, `25%` of the machine's) in bytes."""
    match = _MEMORY.match(value)
    if match is None:
        raise ValueError(f"not an amount of memory: {value!r}")
    if match[4]:
        return int(float(match[4]) / 100 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return int(float(match[1]) * _UNITS[match[3].upper()])


def folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be written (or created) now, or None: a folder that exists and takes a
    file, or the nearest existing one above it is writable (so it can be created)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if existing == folder:
        try:
            tempfile.TemporaryFile(dir=folder).close()
            return None
        except OSError as exc:
            return f"{folder} cannot be written ({exc.strerror})"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    return f"{folder} cannot be created: {existing} is not writable"
