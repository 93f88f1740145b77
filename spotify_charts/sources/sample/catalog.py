"""The simulated music market behind the sample charts: artists, songs, release days, stream curves.

Everything is seeded from stable hashes of names, so a region's catalogue is the same in any
process. The numbers that drive the ranking (release day, kind, appeal, decay) are drawn for all
songs at once with NumPy; a song's metadata (title, credits, label, URIs) is drawn from the song's
own seed only when the song first reaches a chart, so the many songs that never chart cost
nothing. Plain module (no Dagster import).
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
import orjson

from spotify_charts.regions import FIRST_CHART_DATE
from spotify_charts.snapshots import ARTIST_PREFIX, TRACK_PREFIX

CHART_EPOCH = FIRST_CHART_DATE  # each chart's simulated history starts here
_CATALOG_START = dt.date(2015, 1, 2)  # a Friday: songs released before the charts began
_CATALOG_END = dt.date(2031, 1, 3)
# After this date payloads carry the fields that older real captures lack.
RICH_PAYLOADS_FROM = dt.date(2020, 1, 1)

ORD_EPOCH = CHART_EPOCH.toordinal()
NEVER = 10**9  # an ordinal after every simulated day
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
    return "".join(rng.choices(_B62, k=22))


def iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


@dataclass(frozen=True)
class _Artist:
    name: str
    uri: str


def _name(rng: random.Random, style: str, parts: tuple[int, int]) -> str:
    syllables = _SYLLABLES[style]
    word = "".join(rng.choice(syllables) for _ in range(rng.randint(*parts)))
    return word[:1].upper() + word[1:]


def _artist(scope: str, index: int) -> _Artist:
    rng = random.Random(seed("artist", scope, index))
    style = _REGION_STYLE.get(scope, "latin")
    roll = rng.random()
    if roll < 0.08:
        name = f"{_name(rng, style, (1, 2))}, The {_name(rng, 'latin', (2, 2))}"
    elif roll < 0.15:
        name = f"{_name(rng, style, (1, 2))} & {_name(rng, style, (1, 2))}"
    elif roll < 0.5:
        name = f"{_name(rng, style, (2, 3))} {_name(rng, style, (2, 3))}"
    else:
        name = _name(rng, style, (2, 4))
    return _Artist(name, f"{ARTIST_PREFIX}{_spotify_id(rng)}")


def _title(rng: random.Random) -> str:
    form = rng.choice(_TITLE_FORMS)
    return form.format(a=rng.choice(_TITLE_WORDS), b=rng.choice(_TITLE_WORDS))


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
    artist: np.ndarray  # index of the main artist in the scope's artists
    original: np.ndarray  # a re-issue: the index of the song it re-issues (else its own index)
    year_only: np.ndarray  # the release date is known only to the year
    _meta: dict[int, dict] = field(default_factory=dict, repr=False)
    _json: dict[tuple[int, bool], bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.start)

    def meta(self, song: int) -> dict:
        """The song's trackMetadata (rich form), drawn from the song's own seed on first use."""
        with self._lock:
            return self._meta_locked(song)

    def _meta_locked(self, song: int) -> dict:
        if song in self._meta:
            return self._meta[song]
        original = int(self.original[song])
        if original != song:  # a re-release: same name and credits, a new URI and release date
            rng = random.Random(seed("reissue", self.scope, song))
            meta = dict(
                self._meta_locked(original),
                trackUri=f"{TRACK_PREFIX}{_spotify_id(rng)}",
                releaseDate=iso(int(self.start[song])),
            )
        else:
            meta = self._draw_meta(song)
        self._meta[song] = meta
        return meta

    def _draw_meta(self, song: int) -> dict:
        rng = random.Random(seed("song", self.scope, song))
        is_global = self.scope == "global"
        credits = [_artists(self.scope)[int(self.artist[song])]]
        roll = rng.random()
        if roll < 0.3:  # guests: the scope's artists, and in a region also some international ones
            own = _artists(self.scope)
            guests = len(own) + (0 if is_global else 120)
            for pick in rng.sample(range(guests), 1 if roll < 0.22 else 2):
                credits.append(own[pick] if pick < len(own) else _artists("global")[pick - len(own)])
        credits = list(dict.fromkeys(credits, None))
        if self.kind[song] == SEASONAL:
            first, second = ("Last", "White", "Jingle", "Merry"), ("Christmas", "Winter", "Bells", "Snow")
            name = f"{rng.choice(first)} {rng.choice(second)}"
        else:
            name = _title(rng)
        if len(credits) > 1 and rng.random() < 0.5:
            name = f"{name} (feat. {' & '.join(a.name for a in credits[1:])})"
        release = iso(int(self.start[song]))
        return {
            "trackName": name,
            "trackUri": f"{TRACK_PREFIX}{_spotify_id(rng)}",
            "displayImageUri": f"https://i.scdn.co/image/ab67616d00001e02{rng.getrandbits(96):024x}",
            "artists": [{"name": a.name, "spotifyUri": a.uri, "externalUrl": ""} for a in credits],
            "producers": [],
            "songWriters": [],
            "labels": [{"name": rng.choice(_LABELS), "spotifyUri": "", "externalUrl": ""}],
            "releaseDate": release[:4] if self.year_only[song] else release,
        }

    def meta_json(self, song: int, rich: bool) -> bytes:
        """The song's trackMetadata as JSON, in the rich form or the form of older captures."""
        key = (song, rich)
        found = self._json.get(key)
        if found is None:
            meta = self.meta(song)
            found = orjson.dumps(meta if rich else _lean(meta))
            self._json[key] = found
        return found


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


@built_once
def _artists(scope: str) -> list[_Artist]:
    return [_artist(scope, i) for i in range(_artist_count(scope))]


def _artist_count(scope: str) -> int:
    return 700 if scope == "global" else 160


@built_once
def build_catalog(scope: str) -> Catalog:
    """Simulate every release of one scope from 2015 to 2030, plus the classics before it."""
    is_global = scope == "global"
    rng = np.random.default_rng(seed("catalog", scope))
    popularity = rng.lognormal(0.0, 0.7, _artist_count(scope))
    stars = np.argsort(-popularity, kind="stable")[: len(popularity) // 8]
    parts: list[dict[str, np.ndarray]] = []

    def part(kind, start, appeal, tau, mid, artist, year_only=None) -> None:  # noqa: ANN001
        n = len(start)
        parts.append(
            {
                "kind": np.broadcast_to(np.asarray(kind, np.int8), n),
                "start": np.asarray(start, np.int64),
                "appeal": np.asarray(appeal, np.float64),
                "tau": np.broadcast_to(np.asarray(tau, np.float64), n),
                "mid": np.broadcast_to(np.asarray(mid, np.float64), n),
                "artist": np.asarray(artist, np.int32),
                "year_only": np.zeros(n, bool) if year_only is None else year_only,
            }
        )

    # Classics: December songs and evergreen catalogue hits, released decades ago.
    def old_days(count: int, first_year: int, months: tuple[int, int]) -> np.ndarray:
        years = rng.integers(first_year, 2015, count)
        month = rng.integers(months[0], months[1] + 1, count)
        day = rng.integers(1, 29, count)
        return np.array([dt.date(int(y), int(m), int(d)).toordinal() for y, m, d in zip(years, month, day)])

    n = 14 if is_global else 3
    part(SEASONAL, old_days(n, 1957, (11, 11)), rng.uniform(0.8, 2.2, n), 0, 0,
         rng.integers(0, len(popularity), n), year_only=rng.random(n) < 0.25)  # fmt: skip
    n = 40 if is_global else 8
    part(EVERGREEN, old_days(n, 1970, (1, 12)), rng.uniform(0.08, 0.3, n), 0, 0, rng.integers(0, len(popularity), n))

    fridays = np.arange(_CATALOG_START.toordinal(), _CATALOG_END.toordinal(), 7)
    per_week = 28 if is_global else 9
    n = len(fridays) * per_week
    main = rng.integers(0, len(popularity), n)
    appeal = popularity[main] * 0.05 * (rng.pareto(1.5, n) + 1.0)
    # Most releases land on a Friday; the rest spread over the week.
    shift = np.where(rng.random(n) < 0.78, 0, rng.choice(np.array([-4, -3, -2, -1, 1, 2]), n))
    release = np.repeat(fridays, per_week) + shift
    sleeper = rng.random(n) < 0.06
    tau_hit = rng.lognormal(math.log(22), 0.9, n)
    tau_sleeper = rng.lognormal(math.log(60), 0.5, n)
    mid = rng.uniform(30, 150, n)
    part(
        np.where(sleeper, SLEEPER, HIT),
        release,
        np.where(sleeper, np.minimum(appeal * 2.5, 4.0), np.minimum(appeal, 4.0)),
        np.where(sleeper, tau_sleeper, tau_hit),
        np.where(sleeper, mid, 0.0),
        main,
    )

    # Album drops: a star's whole record on one Friday.
    drop = fridays[rng.random(len(fridays)) < (0.35 if is_global else 0.12)]
    star = stars[rng.integers(0, len(stars), len(drop))]
    strength = popularity[star] * rng.uniform(0.25, 0.8, len(drop))
    tracks = rng.integers(9, 17, len(drop))
    track = np.arange(tracks.sum()) - np.repeat(np.cumsum(tracks) - tracks, tracks)
    n = len(track)
    part(
        ALBUM_TRACK,
        np.repeat(drop, tracks),
        np.minimum(np.repeat(strength, tracks) * rng.uniform(0.25, 1.0, n) / (1 + track * 0.08), 4.0),
        rng.lognormal(math.log(9), 0.6, n),
        0,
        np.repeat(star, tracks),
    )

    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    count = len(cols["start"])
    # A hit may come back under a new track URI (re-release, remaster): same name and credits;
    # the old URI keeps a trickle of the streams.
    kind = cols["kind"]
    chance = np.where(kind == HIT, 0.03, np.where(np.isin(kind, (SEASONAL, EVERGREEN)), 0.35, 0.0))
    again = np.flatnonzero(rng.random(count) < chance)
    reissue = np.maximum(cols["start"][again], ORD_EPOCH - 200) + rng.integers(200, 1501, len(again))
    fade_from = np.full(count, NEVER, np.int64)
    fade_from[again] = reissue
    fade = np.ones(count)
    fade[again] = 0.12

    def both(original: np.ndarray, reissued: np.ndarray) -> np.ndarray:
        return np.concatenate([original, reissued])

    return Catalog(
        scope=scope,
        start=both(cols["start"], reissue),
        origin=both(cols["start"], cols["start"][again]),
        kind=both(kind, kind[again]),
        appeal=both(cols["appeal"], cols["appeal"][again] * 0.9),
        tau=both(cols["tau"], cols["tau"][again]),
        mid=both(cols["mid"], cols["mid"][again]),
        fade_from=both(fade_from, np.full(len(again), NEVER, np.int64)),
        fade=both(fade, np.ones(len(again))),
        artist=both(cols["artist"], cols["artist"][again]),
        original=both(np.arange(count), again),
        year_only=both(cols["year_only"], np.zeros(len(again), bool)),
    )
