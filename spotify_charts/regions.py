"""The regions that have Spotify charts, since when, and how a configured list becomes chart aliases.

Plain module (no Dagster import): used by resources, the sample source and the command line.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from functools import cache
from importlib import resources

# The first Spotify daily charts: where partitions, the sample simulation and date checks start.
FIRST_CHART_DATE = dt.date(2017, 1, 1)

DEFAULT_REGIONS = ("global", "us", "gb", "de", "br", "mx", "jp")

# Markets whose daily top chart has 200 entries; every other region's has 50.
LARGE_MARKETS = frozenset("global us gb de br mx jp fr es it ca au nl se ar id ph in pl tr kr co cl".split())

_DAILY_ALIAS = re.compile(r"^regional-(?P<region>[a-z]{2}|global)-daily$")


class RegionConfigError(ValueError):
    """A configured region code is not one that has Spotify charts."""


@cache
def region_names() -> dict[str, str]:
    """Region code to readable name, `global` first, as shipped in `data/regions.csv`."""
    text = resources.files("spotify_charts").joinpath("data/regions.csv").read_text("utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


def parse_regions(value: str | None) -> tuple[str, ...]:
    """Parse a comma-separated list of region codes (empty or None: the defaults).

    Raises RegionConfigError naming every unknown code and listing the valid ones.
    """
    if value is None or not value.strip():
        return DEFAULT_REGIONS
    codes: list[str] = []
    for raw in value.split(","):
        code = raw.strip().lower()
        if code and code not in codes:
            codes.append(code)
    known = region_names()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise RegionConfigError(
            f"unknown region code(s) {', '.join(map(repr, unknown))}; valid codes are: {', '.join(known)}"
        )
    if not codes:
        raise RegionConfigError("no region code given")
    return tuple(codes)


def daily_alias(region: str) -> str:
    """The alias of a region's daily top-tracks chart."""
    return f"regional-{region}-daily"


def region_of_alias(alias: str) -> str:
    """The region code of a daily top-tracks chart alias; ValueError for any other alias."""
    match = _DAILY_ALIAS.match(alias)
    if not match or match["region"] not in region_names():
        raise ValueError(f"not a daily regional chart alias: {alias!r}")
    return match["region"]


def chart_size(region: str) -> int:
    """How many entries the region's daily top chart has."""
    return 200 if region in LARGE_MARKETS else 50
