"""Deterministic, realistic sample charts in exactly the Spotify Charts API's JSON shape.

A simulated music market: artists (international and per region) release songs, mostly on
Fridays; a song's daily streams follow its own curve (debut spike with a song-specific decay,
slow-burning sleeper, December classic, evergreen catalogue hit), album drops put many songs of
one artist on the chart at once, hits get re-issued under new track URIs. A chart's day is the
top N songs by streams among every song released by then; a song's streams on a day are its
curve times noise drawn from a hash of (chart, song, day), so no day depends on another. The
chart-history fields (`previousRank`, `peakRank`, `entryDate`, ...) come from the chart's own
past since 2017-01-01, so they agree with the previous day. Same alias and date, same bytes, in
any process and any order of calls.

Speed (issue 16): days are simulated in blocks of `BLOCK_DAYS`, all at once with NumPy. Only
(song, day) pairs whose noise-free streams reach a floor `G` are ranked; a day is accepted only
if its N-th entry beats anything a song below the floor could reach with the largest possible
noise, otherwise the day is ranked again over every released song. So skipping the long tail
never changes a chart: the result is the exact top N whatever the floor. History state is kept
between blocks (and checkpointed at block starts), so a run over consecutive dates simulates
each day once and an earlier date is re-simulated from the nearest checkpoint, not from 2017.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict

import numpy as np

from spotify_charts.regions import chart_size, region_of_alias
from spotify_charts.sources.sample.catalog import (
    ALBUM_TRACK,
    EVERGREEN,
    GLOBAL_EXPORTERS,
    HIT,
    MARKET_SCALE,
    ORD_EPOCH,
    SEASONAL,
    SLEEPER,
    Catalog,
    build_catalog,
    built_once,
    seed,
)
from spotify_charts.sources.sample.history import Block, State, advance

_WEEKDAY = np.array([1.0, 0.98, 0.99, 1.0, 1.07, 1.04, 0.93])  # Monday first
# Daily noise: exp(sigma * z), z a sum of four uniforms scaled to unit variance, so bounded.
_SIGMA = 0.07
_Z_MAX = 2 * math.sqrt(3)
_NOISE_MAX = math.exp(_SIGMA * _Z_MAX)
_U64 = np.uint64


def _noise(key: int, song: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The stream multiplier of each (song, day): a counter-based hash, independent of what else is ranked."""
    x = (song.astype(_U64) * _U64(0x9E3779B97F4A7C15)) ^ (day.astype(_U64) * _U64(0xC2B2AE3D27D4EB4F)) ^ _U64(key)
    # a multiply-xorshift finaliser (after splitmix64's)
    x ^= x >> _U64(31)
    x *= _U64(0xBF58476D1CE4E5B9)
    x ^= x >> _U64(29)
    mask = _U64(0xFFFF)
    total = (x & mask) + ((x >> _U64(16)) & mask) + ((x >> _U64(32)) & mask) + (x >> _U64(48))
    z = (total.astype(np.float64) + 2.0) / 65536.0 - 2.0  # in (-2, 2), variance 1/3
    return np.exp((_SIGMA * math.sqrt(3)) * z)


class ChartSimulation:
    """The daily ranking of one chart from CHART_EPOCH on, simulated block by block."""

    BLOCK_DAYS = 256
    KEEP_BLOCKS = 3  # simulated blocks kept per chart (a run moves forward through the dates)

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.region = region_of_alias(alias)
        self.size = chart_size(self.region)
        self.scale = MARKET_SCALE.get(self.region, 20_000 + seed("scale", self.region) % 90_000)
        self.key = seed("chart", alias)
        self._build_pool()
        self.lock = threading.Lock()
        self.state = State(len(self.start))
        self.next_block = 0
        self.floor = 0.0  # G: pairs below it are not ranked (0 = calibrate on the next block)
        self.checkpoints: dict[int, tuple] = {0: (self.state.checkpoint(), 0.0)}
        self.blocks: OrderedDict[int, Block] = OrderedDict()
        # Each pool song's entry ending (lean, rich), built when the song first charts.
        self.suffixes = (np.full(len(self.start), None, object), np.full(len(self.start), None, object))

    def _build_pool(self) -> None:
        scopes: list[tuple[Catalog, np.ndarray]] = []
        glob = build_catalog("global")
        if self.region == "global":
            scopes.append((glob, np.ones(len(glob))))
            for region, weight in GLOBAL_EXPORTERS.items():
                local = build_catalog(region)
                affinity = np.random.default_rng(seed("export", region)).lognormal(0, 0.5, len(local))
                scopes.append((local, weight * affinity))
        else:
            affinity = np.random.default_rng(seed("affinity", self.region)).lognormal(-0.2, 0.6, len(glob))
            scopes.append((glob, affinity))
            local = build_catalog(self.region)
            home = np.random.default_rng(seed("home", self.region)).lognormal(0.6, 0.4, len(local))
            scopes.append((local, home))
        self.catalogs = [c for c, _ in scopes]
        self.offsets = np.cumsum([0] + [len(c) for c in self.catalogs])
        cat = lambda name: np.concatenate([getattr(c, name) for c in self.catalogs])  # noqa: E731
        self.start, self.origin, self.kind = cat("start"), cat("origin"), cat("kind")
        self.appeal = cat("appeal") * np.concatenate([w for _, w in scopes])
        self.tau = np.maximum(cat("tau"), 1.0)
        self.mid = np.maximum(cat("mid"), 1.0)
        self.fade_from, self.fade = cat("fade_from"), cat("fade")
        assert len(self.start) < 2**18, "the ranking key holds an 18-bit song index"
        self.short = np.flatnonzero(np.isin(self.kind, (HIT, ALBUM_TRACK)))
        self.sleepers = np.flatnonzero(self.kind == SLEEPER)
        self.long = np.flatnonzero(np.isin(self.kind, (SEASONAL, EVERGREEN)))
        self.by_start = np.argsort(self.start, kind="stable")
        self.sorted_starts = self.start[self.by_start]

    # -- streams ---------------------------------------------------------------------------

    def _base(self, song: np.ndarray, day: np.ndarray, kind: int | None = None) -> np.ndarray:
        """Noise-free streams (in units of the market's scale) of each (song, day) pair, all of
        one kind's curve when `kind` is given (HIT and ALBUM_TRACK share one)."""
        if kind is not None:
            score = self._curve(kind, song, day)
        else:
            kinds = self.kind[song]
            score = np.empty(len(song))
            for each in (HIT, SLEEPER, SEASONAL, EVERGREEN, ALBUM_TRACK):
                where = np.flatnonzero(kinds == each)
                score[where] = self._curve(each, song[where], day[where])
        score = np.where(day > self.fade_from[song], score * self.fade[song], score)
        return score * self.appeal[song]

    def _curve(self, kind: int, song: np.ndarray, day: np.ndarray) -> np.ndarray:
        if kind == SEASONAL:
            return 0.004 + _christmas_bump(day)
        if kind == EVERGREEN:
            return 1.0 + 0.15 * np.sin(day / 58.0)
        age = (day - self.origin[song]).astype(np.float64)
        tau = self.tau[song]
        if kind == SLEEPER:
            mid = self.mid[song]
            rise = 1 / (1 + np.exp(-(age - mid) / (mid / 5)))
            return rise * np.exp(-np.maximum(age - mid, 0) / (tau * 3))
        return 0.7 * np.exp(-age / tau) + 0.3 * np.exp(-age / (tau * 6))

    def _streams(self, song: np.ndarray, day: np.ndarray, base: np.ndarray) -> np.ndarray:
        weekday = _WEEKDAY[(day + 6) % 7]  # ordinal 1 was a Monday
        return np.rint(base * _noise(self.key, song, day) * weekday * self.scale).astype(np.int64)

    # -- which pairs can chart ------------------------------------------------------------

    def _pairs(self, songs: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (song, day) with first <= day <= last, per song."""
        keep = last >= first
        songs, first, last = songs[keep], first[keep], last[keep]
        lengths = last - first + 1
        song = np.repeat(songs, lengths)
        day = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return song, day

    def _candidates(self, lo: int, hi: int, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (song, day) pairs of days lo..hi whose noise-free streams reach `floor`, with them."""
        parts = []
        # Debut spikes and album tracks only decay: each is above the floor from its start until
        # an age found by bisection on the (decreasing) curve.
        ids = self.short[(self.start[self.short] <= hi) & (self.appeal[self.short] > floor)]
        tau, appeal = self.tau[ids], self.appeal[ids]
        loose = 6 * tau * np.log(appeal / floor)  # 0.7e^-a/t + 0.3e^-a/6t <= e^-a/6t
        ids, tau, appeal, loose = (x[self.origin[ids] + loose >= lo] for x in (ids, tau, appeal, loose))
        below, above = np.ceil(loose) + 1, np.zeros(len(ids))  # curve(below) < floor <= curve(above) or 0
        for _ in range(14):
            half = np.floor((below + above) / 2)
            under = appeal * (0.7 * np.exp(-half / tau) + 0.3 * np.exp(-half / (tau * 6))) < floor
            below, above = np.where(under, half, below), np.where(under, above, half)
        end = self.origin[ids] + below.astype(np.int64) - 1
        parts.append((*self._pairs(ids, np.maximum(self.start[ids], lo), np.minimum(end, hi)), HIT))
        # Sleepers rise (a logistic curve up to `mid`) and then decay.
        ids = self.sleepers[(self.start[self.sleepers] <= hi) & (self.appeal[self.sleepers] > floor)]
        share = floor / self.appeal[ids]
        mid, tau = self.mid[ids], self.tau[ids]
        rise = np.floor(mid + mid / 5 * np.log(share / (1 - share))) - 1
        fall = np.ceil(mid + 3 * tau * np.log(1 / share)) + 1
        first = np.maximum(np.maximum(self.start[ids], self.origin[ids] + rise.astype(np.int64)), lo)
        parts.append((*self._pairs(ids, first, np.minimum(self.origin[ids] + fall.astype(np.int64), hi)), SLEEPER))
        # The few classics: every day of the block.
        ids = self.long[self.start[self.long] <= hi]
        parts.append((*self._pairs(ids, np.maximum(self.start[ids], lo), np.full(len(ids), hi)), None))
        songs, days, bases = [], [], []
        for song, day, kind in parts:
            base = self._base(song, day, kind)
            if kind is None:  # the classics' days are not narrowed down beforehand
                keep = base >= floor
                song, day, base = song[keep], day[keep], base[keep]
            songs.append(song)
            days.append(day)
            bases.append(base)
        return np.concatenate(songs), np.concatenate(days), np.concatenate(bases)

    def _everything(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every released song on each of these days (the check that the floor lost nothing failed)."""
        count = np.searchsorted(self.sorted_starts, days, side="right")
        song = np.concatenate([self.by_start[:c] for c in count])
        day = np.repeat(days, count)
        return song, day, self._base(song, day)

    def _rank(
        self, song: np.ndarray, day: np.ndarray, streams: np.ndarray, lo: int, days: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The top N (song, day, streams) of each day, in (day, rank) order; ties rank by pool index."""
        assert not len(streams) or streams.max() < 2**30, "the ranking key holds 30-bit stream counts"
        # One packed int64 key, sorted by value (several times faster than an argsort).
        key = ((day - lo) << 48) | ((2**30 - 1 - streams) << 18) | song
        key.sort()
        day_sorted = key >> 48
        starts = np.searchsorted(day_sorted, np.arange(days))
        top = key[np.arange(len(key)) - starts[day_sorted] < self.size]
        return top & (2**18 - 1), (top >> 48) + lo, 2**30 - 1 - ((top >> 18) & (2**30 - 1))

    def _simulate_block(self, block: int) -> Block:
        lo = ORD_EPOCH + block * self.BLOCK_DAYS
        days = self.BLOCK_DAYS
        hi = lo + days - 1
        all_days = np.arange(lo, hi + 1)
        most = _NOISE_MAX * _WEEKDAY[(all_days + 6) % 7] * self.scale  # per unit of noise-free streams
        # Any floor gives the same charts; a good one just ranks fewer pairs.
        floor = max(self.floor or self._calibrate(all_days[:: days // 4]), 1e-12)
        song, day, base = self._candidates(lo, hi, floor)
        streams = self._streams(song, day, base)
        top_song, top_day, top_streams = self._rank(song, day, streams, lo, days)
        # The floor lost nothing on a day whose N-th entry beats the most a song below the floor
        # could stream that day; other days are ranked again over every released song.
        per_day = np.bincount(top_day - lo, minlength=days)
        nth = np.full(days, -1, np.int64)
        full = per_day == self.size
        nth[full] = top_streams[np.cumsum(per_day)[full] - 1]
        redo = all_days[nth <= floor * (1 + 1e-9) * most + 1]
        if len(redo):
            keep = ~np.isin(day, redo)
            extra_song, extra_day, extra_base = self._everything(redo)
            song = np.concatenate([song[keep], extra_song])
            day = np.concatenate([day[keep], extra_day])
            streams = np.concatenate([streams[keep], self._streams(extra_song, extra_day, extra_base)])
            top_song, top_day, top_streams = self._rank(song, day, streams, lo, days)
            nth = top_streams.reshape(days, self.size)[:, -1]
        # The next block's floor: a little under what this block's N-th entries needed.
        self.floor = 0.9 * float(np.min(nth / most))
        return advance(self.state, self.size, lo, top_song, top_day, top_streams)

    def _calibrate(self, days: np.ndarray) -> float:
        song, day, base = self._everything(days)
        _, _, streams = self._rank(song, day, self._streams(song, day, base), int(days[0]), int(days[-1] - days[0] + 1))
        nth = streams.reshape(len(days), self.size)[:, -1]
        return 0.8 * float(np.min(nth / (_NOISE_MAX * _WEEKDAY[(days + 6) % 7] * self.scale)))

    # -- chart history ---------------------------------------------------------------------

    def block(self, ordinal: int) -> Block:
        """The simulated block holding this day: kept, or simulated from the nearest checkpoint."""
        wanted = (ordinal - ORD_EPOCH) // self.BLOCK_DAYS
        with self.lock:
            if wanted in self.blocks:
                self.blocks.move_to_end(wanted)
                return self.blocks[wanted]
            if wanted < self.next_block:  # an earlier date: go back to the nearest checkpoint
                self.next_block = max(k for k in self.checkpoints if k <= wanted)
                saved, self.floor = self.checkpoints[self.next_block]
                self.state = State.restore(len(self.start), saved)
            while self.next_block <= wanted:
                simulated = self._simulate_block(self.next_block)
                self.blocks[self.next_block] = simulated
                self.next_block += 1
                self.checkpoints.setdefault(self.next_block, (self.state.checkpoint(), self.floor))
                while len(self.blocks) > self.KEEP_BLOCKS:
                    self.blocks.popitem(last=False)
            return self.blocks[wanted]

    def _catalog_of(self, song: int) -> tuple[Catalog, int]:
        part = int(np.searchsorted(self.offsets, song, side="right") - 1)
        return self.catalogs[part], song - int(self.offsets[part])

    def meta(self, song: int) -> dict:
        """A pool song's trackMetadata (rich form)."""
        catalog, index = self._catalog_of(song)
        return catalog.meta(index)

    def suffixes_of(self, songs: np.ndarray, rich: bool) -> np.ndarray:
        """The end of each song's entry: what follows entryDate's value, with its trackMetadata."""
        table = self.suffixes[rich]
        found = table[songs]
        middle = b'"},"missingRequiredFields":false,"trackMetadata":' if rich else b'"},"trackMetadata":'
        for at in np.flatnonzero(found == None).tolist():  # noqa: E711 (element-wise on an object array)
            catalog, index = self._catalog_of(int(songs[at]))
            found[at] = table[songs[at]] = middle + catalog.meta_json(index, rich) + b"}"
        return found


def _christmas_bump(day: np.ndarray) -> np.ndarray:
    """exp(-((day - the Christmas of the season) / 9)^2), a season running from July to June."""
    unique, back = np.unique(day, return_inverse=True)
    christmas = []
    for ordinal in unique.tolist():
        date = dt.date.fromordinal(ordinal)
        christmas.append(dt.date(date.year if date.month > 6 else date.year - 1, 12, 25).toordinal())
    nearest = np.array(christmas, np.int64)[back]
    return np.exp(-(((day - nearest) / 9.0) ** 2))


simulation = built_once(ChartSimulation)  # one per alias and process
