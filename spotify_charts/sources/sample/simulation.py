"""Deterministic, realistic sample charts in exactly the Spotify Charts API's JSON shape.

A simulated music market: artists (international and per region) release songs, mostly on
Fridays; a song's daily streams follow its own curve (debut spike with a song-specific decay,
slow-burning sleeper, December classic, evergreen catalogue hit), album drops put many songs of
one artist on the chart at once, hits get re-issued under new track URIs. Each chart's daily
ranking is simulated from 2017-01-01, so the chart-history fields (`previousRank`, `peakRank`,
`entryDate`, ...) agree with the chart's own past. Everything is seeded from stable hashes of
names, so one alias and date give byte-identical JSON in any process and any order of calls.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass

import numpy as np

from spotify_charts.regions import chart_size, region_names, region_of_alias
from spotify_charts.sources.sample.catalog import (
    CHART_EPOCH,
    EVERGREEN,
    GLOBAL_EXPORTERS,
    MARKET_SCALE,
    ORD_EPOCH,
    RICH_PAYLOADS_FROM,
    SEASONAL,
    SLEEPER,
    STATUS,
    Catalog,
    build_catalog,
    built_once,
    iso,
    seed,
)


def _lean(meta: dict) -> dict:
    """The trackMetadata shape of older captures: no producers, writers or external URLs."""
    return {
        "trackName": meta["trackName"],
        "trackUri": meta["trackUri"],
        "displayImageUri": meta["displayImageUri"],
        "artists": [{"name": a["name"], "spotifyUri": a["spotifyUri"]} for a in meta["artists"]],
        "labels": [{"name": label["name"]} for label in meta["labels"]],
        # Older captures drop a release date known only to the year.
        **({"releaseDate": meta["releaseDate"]} if len(meta["releaseDate"]) == 10 else {}),
    }


@dataclass
class _Day:
    """One simulated chart day: pool indices in rank order and each entry's history fields."""

    song: np.ndarray
    streams: np.ndarray
    previous: np.ndarray
    peak: np.ndarray
    peak_day: np.ndarray
    appearances: np.ndarray
    consecutive: np.ndarray
    status: np.ndarray
    entry_rank: np.ndarray
    entry_day: np.ndarray


class _ChartSimulation:
    """The daily ranking of one chart from CHART_EPOCH on, extended lazily and kept in memory."""

    WINDOW_DAYS = 900  # a song released longer ago than this charts only if it is long-lived

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.region = region_of_alias(alias)
        self.size = chart_size(self.region)
        self.scale = MARKET_SCALE.get(self.region, 20_000 + seed("scale", self.region) % 90_000)
        self.seed = seed("chart", alias)
        self._build_pool()
        n = len(self.start)
        self.last_rank = np.full(n, -1, np.int32)
        self.last_day = np.full(n, -(10**6), np.int64)
        self.peak = np.full(n, 10**6, np.int32)
        self.peak_day = np.zeros(n, np.int64)
        self.appearances = np.zeros(n, np.int32)
        self.consecutive = np.zeros(n, np.int32)
        self.entry_rank = np.zeros(n, np.int32)
        self.entry_day = np.zeros(n, np.int64)
        self.days: list[_Day] = []
        self.lock = threading.Lock()

    def _build_pool(self) -> None:
        scopes: list[tuple[Catalog, np.ndarray]] = []
        glob = build_catalog("global")
        if self.region == "global":
            scopes.append((glob, np.ones(len(glob.start))))
            for region, weight in GLOBAL_EXPORTERS.items():
                local = build_catalog(region)
                affinity = np.random.default_rng(seed("export", region)).lognormal(0, 0.5, len(local.start))
                scopes.append((local, weight * affinity))
        else:
            affinity = np.random.default_rng(seed("affinity", self.region)).lognormal(-0.2, 0.6, len(glob.start))
            scopes.append((glob, affinity))
            local = build_catalog(self.region)
            home = np.random.default_rng(seed("home", self.region)).lognormal(0.6, 0.4, len(local.start))
            scopes.append((local, home))
        self.catalogs = [c for c, _ in scopes]
        self.offsets = np.cumsum([0] + [len(c.start) for c in self.catalogs])
        cat = lambda name: np.concatenate([getattr(c, name) for c in self.catalogs])  # noqa: E731
        self.start, self.origin, self.kind = cat("start"), cat("origin"), cat("kind")
        self.appeal = cat("appeal") * np.concatenate([w for _, w in scopes])
        self.tau, self.mid, self.fade_from, self.fade = cat("tau"), cat("mid"), cat("fade_from"), cat("fade")
        long_lived = np.isin(self.kind, (SEASONAL, EVERGREEN, SLEEPER))
        self.long_ids = np.flatnonzero(long_lived)
        short = np.flatnonzero(~long_lived)
        self.short_ids = short[np.argsort(self.start[short], kind="stable")]
        self.short_starts = self.start[self.short_ids]

    def meta(self, song: int) -> dict:
        part = int(np.searchsorted(self.offsets, song, side="right") - 1)
        return self.catalogs[part].meta[song - int(self.offsets[part])]

    def _scores(self, ids: np.ndarray, day: int) -> np.ndarray:
        age = (day - self.origin[ids]).astype(np.float64)
        kind = self.kind[ids]
        tau = np.maximum(self.tau[ids], 1.0)
        decay = 0.7 * np.exp(-age / tau) + 0.3 * np.exp(-age / (tau * 6))
        score = np.where(kind == SLEEPER, 0.0, decay)
        mid = np.maximum(self.mid[ids], 1.0)
        sleeper = 1 / (1 + np.exp(-(age - mid) / (mid / 5))) * np.exp(-np.maximum(age - mid, 0) / (tau * 3))
        score = np.where(kind == SLEEPER, sleeper, score)
        date = dt.date.fromordinal(day)
        christmas = dt.date(date.year if date.month > 6 else date.year - 1, 12, 25).toordinal()
        bump = math.exp(-(((day - christmas) / 9.0) ** 2))
        score = np.where(kind == SEASONAL, 0.004 + bump, score)
        score = np.where(kind == EVERGREEN, 1.0 + 0.15 * math.sin(day / 58.0), score)
        score = np.where(day > self.fade_from[ids], score * self.fade[ids], score)
        return score * self.appeal[ids]

    def _simulate(self, day: int) -> _Day:
        lo = np.searchsorted(self.short_starts, day - self.WINDOW_DAYS, side="left")
        hi = np.searchsorted(self.short_starts, day, side="right")
        long_ids = self.long_ids[self.start[self.long_ids] <= day]
        ids = np.concatenate([self.short_ids[lo:hi], long_ids])
        rng = np.random.default_rng([self.seed, day])
        weekday = (1.0, 0.98, 0.99, 1.0, 1.07, 1.04, 0.93)[dt.date.fromordinal(day).weekday()]
        noisy = self._scores(ids, day) * rng.lognormal(0.0, 0.07, len(ids)) * weekday
        streams = np.rint(noisy * self.scale).astype(np.int64)
        top = np.argpartition(-streams, self.size)[: self.size] if len(ids) > self.size else np.arange(len(ids))
        # Rank by streams; equal streams rank by catalogue position, so ties are deterministic.
        top = top[np.lexsort((ids[top], -streams[top]))]
        song, streams = ids[top], streams[top]
        ranks = np.arange(1, len(song) + 1, dtype=np.int32)

        was_yesterday = self.last_day[song] == day - 1
        previous = np.where(was_yesterday, self.last_rank[song], -1).astype(np.int32)
        first = self.appearances[song] == 0
        self.appearances[song] += 1
        self.consecutive[song] = np.where(was_yesterday, self.consecutive[song] + 1, 1)
        better = ranks < self.peak[song]
        self.peak[song] = np.where(better, ranks, self.peak[song])
        self.peak_day[song] = np.where(better, day, self.peak_day[song])
        self.entry_rank[song] = np.where(first, ranks, self.entry_rank[song])
        self.entry_day[song] = np.where(first, day, self.entry_day[song])
        self.last_rank[song] = ranks
        self.last_day[song] = day
        status = np.select([first, previous == -1, ranks < previous, ranks > previous], [0, 1, 2, 3], default=4).astype(
            np.int8
        )
        return _Day(
            song,
            streams,
            previous,
            self.peak[song].copy(),
            self.peak_day[song].copy(),
            self.appearances[song].copy(),
            self.consecutive[song].copy(),
            status,
            self.entry_rank[song].copy(),
            self.entry_day[song].copy(),
        )

    def day(self, ordinal: int) -> _Day:
        with self.lock:
            while ORD_EPOCH + len(self.days) <= ordinal:
                self.days.append(self._simulate(ORD_EPOCH + len(self.days)))
            return self.days[ordinal - ORD_EPOCH]


_simulation = built_once(_ChartSimulation)


def sample_chart(alias: str, chart_date: dt.date) -> dict:
    """The sample chart for one daily alias and date, as the API's JSON object."""
    if chart_date < CHART_EPOCH:
        raise ValueError(f"no sample chart before {CHART_EPOCH}: {alias} {chart_date}")
    sim = _simulation(alias)
    day = sim.day(chart_date.toordinal())
    rich = chart_date >= RICH_PAYLOADS_FROM
    region = sim.region
    entries = []
    for i in range(len(day.song)):
        meta = sim.meta(int(day.song[i]))
        chart_entry = {
            "currentRank": i + 1,
            "previousRank": int(day.previous[i]),
            "peakRank": int(day.peak[i]),
            "peakDate": iso(int(day.peak_day[i])),
            "appearancesOnChart": int(day.appearances[i]),
            "consecutiveAppearancesOnChart": int(day.consecutive[i]),
            "rankingMetric": {"value": str(int(day.streams[i])), "type": "STREAMS"},
            "entryStatus": STATUS[day.status[i]],
            "entryRank": int(day.entry_rank[i]),
            "entryDate": iso(int(day.entry_day[i])),
        }
        if rich:
            entries.append({"chartEntryData": chart_entry, "missingRequiredFields": False, "trackMetadata": meta})
        else:
            entries.append({"chartEntryData": chart_entry, "trackMetadata": _lean(meta)})
    readable = region_names()[region]
    return {
        "displayChart": {
            "date": chart_date.isoformat(),
            "description": f"Your daily update of the most played tracks right now - {readable}.",
            "chartMetadata": {
                "uri": f"spotify:chart:{alias}",
                "alias": alias,
                "entityType": "TRACK",
                "readableTitle": f"Top Songs - {readable}" if region != "global" else "Top Songs - Global",
                "dimensions": {
                    "country": region.upper(),
                    "chartType": "TOP",
                    "recurrence": "DAILY",
                    # The sample's "latest" is the requested day, so the payload never depends
                    # on when it was generated.
                    "latestDate": chart_date.isoformat(),
                    "earliestDate": CHART_EPOCH.isoformat(),
                },
            },
        },
        "entries": entries,
    }
