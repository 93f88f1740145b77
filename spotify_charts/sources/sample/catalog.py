"""The simulated music market behind the sample charts: artists, songs, release days, stream curves.

Everything is seeded from stable hashes of names, so a region's catalogue is the same in any
process. Plain module (no Dagster import).
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

from spotify_charts.regions import FIRST_CHART_DATE

CHART_EPOCH = FIRST_CHART_DATE  # each chart's simulated history starts here
_CATALOG_START = dt.date(2015, 1, 2)  # a Friday: songs released before the charts began
_CATALOG_END = dt.date(2031, 1, 3)
# After this date payloads carry the fields that older real captures lack.
RICH_PAYLOADS_FROM = dt.date(2020, 1, 1)

ORD_EPOCH = CHART_EPOCH.toordinal()
T = TypeVar("T")

# Song kinds: how a song's daily streams evolve after release.
HIT, SLEEPER, SEASONAL, EVERGREEN, ALBUM_TRACK = range(5)

# Relative size of each market's streams (global #1 ~ several million a day).
MARKET_SCALE = {
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
GLOBAL_EXPORTERS = {"us": 0.55, "br": 0.2, "mx": 0.25, "kr": 0.2}

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
STATUS = ("NEW_ENTRY", "RE_ENTRY", "MOVED_UP", "MOVED_DOWN", "NO_CHANGE")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def seed(*parts: object) -> int:
    """A 64-bit seed from names, stable across processes (unlike `hash`)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _spotify_id(rng: random.Random) -> str:
    return "".join(rng.choice(_B62) for _ in range(22))


def iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


@dataclass(frozen=True)
class _Artist:
    name: str
    uri: str
    popularity: float


@dataclass
class Catalog:
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
    rng = random.Random(seed("artists", scope))
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


def built_once(build: Callable[[str], T]) -> Callable[[str], T]:
    """Memoise `build` per key, building each key once even when threads ask at the same time."""
    built: dict[str, T] = {}
    lock = threading.Lock()

    def get(key: str) -> T:
        with lock:
            if key not in built:
                built[key] = build(key)
            return built[key]

    return get


@built_once
def build_catalog(scope: str) -> Catalog:
    """Simulate every release of one scope from 2015 to 2030, plus the classics before it."""
    is_global = scope == "global"
    rng = random.Random(seed("catalog", scope))
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
            "releaseDate": release_text if release_text is not None else iso(release),
        }
        fade_from, fade = 10**9, 1.0
        rows.append([release, release, kind, appeal, tau, mid, fade_from, fade, meta])
        # A hit may come back under a new track URI (re-release, remaster): same name and
        # credits; the old URI keeps a trickle of the streams.
        if kind in (HIT, SEASONAL, EVERGREEN) and rng.random() < (0.35 if kind != HIT else 0.03):
            reissue = max(release, ORD_EPOCH - 200) + rng.randint(200, 1500)
            rows[-1][6:8] = [reissue, 0.12]
            remaster = dict(meta, trackUri=f"spotify:track:{_spotify_id(rng)}", releaseDate=iso(reissue))
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
    return Catalog(
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
