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
import hashlib
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from spotify_charts.regions import FIRST_CHART_DATE, chart_size, region_names, region_of_alias

CHART_EPOCH = FIRST_CHART_DATE  # each chart's simulated history starts here
_CATALOG_START = dt.date(2015, 1, 2)  # a Friday: songs released before the charts began
_CATALOG_END = dt.date(2031, 1, 3)
# After this date payloads carry the fields that older real captures lack.
_RICH_PAYLOADS_FROM = dt.date(2020, 1, 1)

_ORD_EPOCH = CHART_EPOCH.toordinal()
T = TypeVar("T")

# Song kinds: how a song's daily streams evolve after release.
HIT, SLEEPER, SEASONAL, EVERGREEN, ALBUM_TRACK = range(5)

# Relative size of each market's streams (global #1 ~ several million a day).
_MARKET_SCALE = {
    "global": 4_000_000,
    "us": 1_300_000,
    "br": 520_000,
    "mx": 430_000,
    "gb": 330_000,
    "de": 330_000,
    "jp": 170_000,
    "fr": 200_000,
    "es": 200_000,
    "it": 170_000,
    "ca": 160_000,
    "au": 120_000,
    "ar": 160_000,
    "id": 140_000,
    "ph": 150_000,
    "in": 150_000,
}
# Regions whose local hits also reach the global chart, and how strongly.
_GLOBAL_EXPORTERS = {"us": 0.55, "br": 0.2, "mx": 0.25, "kr": 0.2}

_SYLLABLES = {
    "latin": "ka lo mi ra ne so ta vi el an mar lu sen dor ri ja be co fa tre ny ol is".split(),
    "hispanic": "ca mi lo ra sol án ma ría jo sé lu na ñe ro ar cán gel ba da fé li".split(),
    "german": "kai lö mi ra ne sö ta fi el an mar lü sen dor ri ja be ko fa ß".split(),
    "japanese": "ア カ サ タ ナ ハ マ ヤ ラ ワ キ シ ミ リ ユ ソ ト".split(),
    "cyrillic": "ан ти все лен на я ма ри ка зо ле та".split(),
    "korean": "하 나 서 준 민 지 수 은 태 윤 현".split(),
}
_REGION_STYLE = {
    **dict.fromkeys("es mx ar co cl pe ec uy py bo ve cr do gt hn ni pa sv pt br".split(), "hispanic"),
    **dict.fromkeys("de at ch".split(), "german"),
    "jp": "japanese",
    "kr": "korean",
    **dict.fromkeys("ua by kz bg".split(), "cyrillic"),
}
_TITLE_WORDS = (
    "Flowers Midnight Corazón Dance Rain Summer Lights Fuego Love Heartbreak Muñecas Gold "
    "Stay Paradise Ocean Gravity Neon Echoes Bailar Noche Sunrise Velvet Ghost Fever Tokyo "
    "Calma Diamonds Wild Blue Honey Shadows Mariposa Storm Kiss Runaway Forever Starlight"
).split()
_TITLE_FORMS = (
    "{a}",
    "{a}",
    "{a} {b}",
    "{a} {b}",
    "{a} & {b}",
    "{a} (Remix)",
    "Don't Stop the {a}",
    '"{a}," She Said',
    "{a}, {b}",
    "[{a}]",
    "{a} - Acoustic",
    "Me & {a}",
    "{a}'s {b}",
)
_LABELS = (
    "Columbia",
    "Republic Records",
    "Sony Music Latin/La Industria",
    "Atlantic Records UK",
    "XL Recordings",
    "Rimas Entertainment LLC",
    "Universal Music GmbH",
    "Avex Trax",
    "HYBE",
    "Som Livre",
    "Warner Music México",
    "Interscope Records",
    "Island Records",
    "RCA Records Label",
    "Big Hit Music",
    "Polydor Records",
    "Epic/Legacy",
    "Independent",
)
_STATUS = ("NEW_ENTRY", "RE_ENTRY", "MOVED_UP", "MOVED_DOWN", "NO_CHANGE")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _seed(*parts: object) -> int:
    """A 64-bit seed from names, stable across processes (unlike `hash`)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _spotify_id(rng: random.Random) -> str:
    return "".join(rng.choice(_B62) for _ in range(22))


def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


@dataclass(frozen=True)
class _Artist:
    name: str
    uri: str
    popularity: float


@dataclass
class _Catalog:
    """Every song of one scope (`global`, or one region's local scene), as parallel arrays."""

    scope: str
    start: np.ndarray  # ordinal of the first day the track URI exists
    origin: np.ndarray  # ordinal the streaming curve counts from (a re-issue keeps the original's)
    kind: np.ndarray
    appeal: np.ndarray
    tau: np.ndarray  # decay constant, days
    mid: np.ndarray  # sleeper: days to the peak
    fade_from: np.ndarray  # ordinal after which the track keeps only `fade` of its streams
    fade: np.ndarray
    meta: list[dict] = field(repr=False)  # trackMetadata, rich form (newer payloads)


def _name(rng: random.Random, style: str, parts: tuple[int, int]) -> str:
    syllables = _SYLLABLES[style]
    word = "".join(rng.choice(syllables) for _ in range(rng.randint(*parts)))
    return word[:1].upper() + word[1:]


def _artists(scope: str, count: int) -> list[_Artist]:
    rng = random.Random(_seed("artists", scope))
    style = _REGION_STYLE.get(scope, "latin")
    artists = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.08:
            name = f"{_name(rng, style, (1, 2))}, The {_name(rng, 'latin', (2, 2))}"
        elif roll < 0.15:
            name = f"{_name(rng, style, (1, 2))} & {_name(rng, style, (1, 2))}"
        elif roll < 0.5:
            name = f"{_name(rng, style, (2, 3))} {_name(rng, style, (2, 3))}"
        else:
            name = _name(rng, style, (2, 4))
        artists.append(_Artist(name, f"spotify:artist:{_spotify_id(rng)}", rng.lognormvariate(0, 0.7)))
    return artists


def _title(rng: random.Random) -> str:
    form = rng.choice(_TITLE_FORMS)
    return form.format(a=rng.choice(_TITLE_WORDS), b=rng.choice(_TITLE_WORDS))


def _release_day(rng: random.Random, friday: int) -> int:
    """Most releases land on a Friday; the rest spread over the week."""
    return friday if rng.random() < 0.78 else friday + rng.choice((-4, -3, -2, -1, 1, 2))


def _built_once(build: Callable[[str], T]) -> Callable[[str], T]:
    """Memoise `build` per key, building each key once even when threads ask at the same time."""
    built: dict[str, T] = {}
    lock = threading.Lock()

    def get(key: str) -> T:
        with lock:
            if key not in built:
                built[key] = build(key)
            return built[key]

    return get


@_built_once
def _catalog(scope: str) -> _Catalog:
    """Simulate every release of one scope from 2015 to 2030, plus the classics before it."""
    is_global = scope == "global"
    rng = random.Random(_seed("catalog", scope))
    artists = _artists(scope, 700 if is_global else 160)
    guests = artists + ([] if is_global else _artists("global", 700)[:120])
    stars = sorted(artists, key=lambda a: -a.popularity)[: len(artists) // 8]
    rows: list[tuple] = []  # start, origin, kind, appeal, tau, mid, fade_from, fade, meta

    def add(
        kind: int,
        release: int,
        appeal: float,
        tau: float,
        mid: float,
        main: _Artist,
        title: str | None = None,
        release_text: str | None = None,
    ) -> None:
        credits = [main]
        roll = rng.random()
        if roll < 0.3:
            credits += rng.sample(guests, 1 if roll < 0.22 else 2)
        credits = list(dict.fromkeys(credits, None))
        name = title or _title(rng)
        if len(credits) > 1 and rng.random() < 0.5:
            name = f"{name} (feat. {' & '.join(a.name for a in credits[1:])})"
        label = rng.choice(_LABELS)
        meta = {
            "trackName": name,
            "trackUri": f"spotify:track:{_spotify_id(rng)}",
            "displayImageUri": f"https://i.scdn.co/image/ab67616d00001e02{rng.getrandbits(96):024x}",
            "artists": [{"name": a.name, "spotifyUri": a.uri, "externalUrl": ""} for a in credits],
            "producers": [],
            "songWriters": [],
            "labels": [{"name": label, "spotifyUri": "", "externalUrl": ""}],
            "releaseDate": release_text if release_text is not None else _iso(release),
        }
        fade_from, fade = 10**9, 1.0
        rows.append([release, release, kind, appeal, tau, mid, fade_from, fade, meta])
        # A hit may come back under a new track URI (re-release, remaster): same name and
        # credits; the old URI keeps a trickle of the streams.
        if kind in (HIT, SEASONAL, EVERGREEN) and rng.random() < (0.35 if kind != HIT else 0.03):
            reissue = max(release, _ORD_EPOCH - 200) + rng.randint(200, 1500)
            rows[-1][6:8] = [reissue, 0.12]
            remaster = dict(meta, trackUri=f"spotify:track:{_spotify_id(rng)}", releaseDate=_iso(reissue))
            rows.append([reissue, release, kind, appeal * 0.9, tau, mid, 10**9, 1.0, remaster])

    # Classics: December songs and evergreen catalogue hits, released decades ago.
    for _ in range(14 if is_global else 3):
        year = rng.randint(1957, 2014)
        text = str(year) if rng.random() < 0.25 else None  # year-only precision: unparsable
        add(
            SEASONAL,
            dt.date(year, 11, rng.randint(1, 28)).toordinal(),
            rng.uniform(0.8, 2.2),
            0,
            0,
            rng.choice(artists),
            title=f"{rng.choice(('Last', 'White', 'Jingle', 'Merry'))} "
            f"{rng.choice(('Christmas', 'Winter', 'Bells', 'Snow'))}",
            release_text=text,
        )
    for _ in range(40 if is_global else 8):
        year = rng.randint(1970, 2014)
        add(
            EVERGREEN,
            dt.date(year, rng.randint(1, 12), rng.randint(1, 28)).toordinal(),
            rng.uniform(0.08, 0.3),
            0,
            0,
            rng.choice(artists),
        )

    singles_per_week = 28 if is_global else 9
    album_chance = 0.35 if is_global else 0.12
    friday = _CATALOG_START.toordinal()
    while friday < _CATALOG_END.toordinal():
        for _ in range(singles_per_week):
            main = rng.choice(artists)
            appeal = main.popularity * 0.05 * (rng.paretovariate(1.5))
            if rng.random() < 0.06:
                add(
                    SLEEPER,
                    _release_day(rng, friday),
                    min(appeal * 2.5, 4.0),
                    rng.lognormvariate(math.log(60), 0.5),
                    rng.uniform(30, 150),
                    main,
                )
            else:
                add(HIT, _release_day(rng, friday), min(appeal, 4.0), rng.lognormvariate(math.log(22), 0.9), 0, main)
        if rng.random() < album_chance:  # album drop: a star's whole record at once
            star = rng.choice(stars)
            strength = star.popularity * rng.uniform(0.25, 0.8)
            for track in range(rng.randint(9, 16)):
                add(
                    ALBUM_TRACK,
                    friday,
                    min(strength * rng.uniform(0.25, 1.0) / (1 + track * 0.08), 4.0),
                    rng.lognormvariate(math.log(9), 0.6),
                    0,
                    star,
                )
        friday += 7

    columns = list(zip(*rows))
    return _Catalog(
        scope=scope,
        start=np.array(columns[0], dtype=np.int64),
        origin=np.array(columns[1], dtype=np.int64),
        kind=np.array(columns[2], dtype=np.int8),
        appeal=np.array(columns[3], dtype=np.float64),
        tau=np.array(columns[4], dtype=np.float64),
        mid=np.array(columns[5], dtype=np.float64),
        fade_from=np.array(columns[6], dtype=np.int64),
        fade=np.array(columns[7], dtype=np.float64),
        meta=list(columns[8]),
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
        self.scale = _MARKET_SCALE.get(self.region, 20_000 + _seed("scale", self.region) % 90_000)
        self._seed = _seed("chart", alias)
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
        scopes: list[tuple[_Catalog, np.ndarray]] = []
        glob = _catalog("global")
        if self.region == "global":
            scopes.append((glob, np.ones(len(glob.start))))
            for region, weight in _GLOBAL_EXPORTERS.items():
                local = _catalog(region)
                affinity = np.random.default_rng(_seed("export", region)).lognormal(0, 0.5, len(local.start))
                scopes.append((local, weight * affinity))
        else:
            affinity = np.random.default_rng(_seed("affinity", self.region)).lognormal(-0.2, 0.6, len(glob.start))
            scopes.append((glob, affinity))
            local = _catalog(self.region)
            home = np.random.default_rng(_seed("home", self.region)).lognormal(0.6, 0.4, len(local.start))
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
        rng = np.random.default_rng([self._seed, day])
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
            while _ORD_EPOCH + len(self.days) <= ordinal:
                self.days.append(self._simulate(_ORD_EPOCH + len(self.days)))
            return self.days[ordinal - _ORD_EPOCH]


_simulation = _built_once(_ChartSimulation)


def sample_chart(alias: str, chart_date: dt.date) -> dict:
    """The sample chart for one daily alias and date, as the API's JSON object."""
    if chart_date < CHART_EPOCH:
        raise ValueError(f"no sample chart before {CHART_EPOCH}: {alias} {chart_date}")
    sim = _simulation(alias)
    day = sim.day(chart_date.toordinal())
    rich = chart_date >= _RICH_PAYLOADS_FROM
    region = sim.region
    entries = []
    for i in range(len(day.song)):
        meta = sim.meta(int(day.song[i]))
        chart_entry = {
            "currentRank": i + 1,
            "previousRank": int(day.previous[i]),
            "peakRank": int(day.peak[i]),
            "peakDate": _iso(int(day.peak_day[i])),
            "appearancesOnChart": int(day.appearances[i]),
            "consecutiveAppearancesOnChart": int(day.consecutive[i]),
            "rankingMetric": {"value": str(int(day.streams[i])), "type": "STREAMS"},
            "entryStatus": _STATUS[day.status[i]],
            "entryRank": int(day.entry_rank[i]),
            "entryDate": _iso(int(day.entry_day[i])),
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
