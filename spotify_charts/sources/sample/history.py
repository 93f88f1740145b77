"""A chart's history fields (previousRank, peakRank, appearances, entry, ...) for a block of
simulated days at once, from each song's history before the block (`State`).

Plain module (no Dagster import).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Block:
    """Simulated days of one chart. `song` and `streams` in (day, rank) order, N entries per day;
    the history fields (`fields`, one row per field of `FIELDS`, one column per entry) in the
    order the history was computed, `row` mapping each (day, rank) position to its column."""

    first: int  # ordinal of the block's first day
    size: int  # entries per day
    song: np.ndarray
    streams: np.ndarray
    row: np.ndarray
    fields: np.ndarray


FIELDS = ("previous", "peak", "peak_day", "appearances", "consecutive", "status", "entry_rank", "entry_day")
STATE = ("last_rank", "last_day", "peak", "peak_day", "appearances", "consecutive", "entry_rank", "entry_day")


class State:
    """Each song's chart history so far (its last rank and day, peak, appearances, entry)."""

    def __init__(self, n: int) -> None:
        self.last_rank = np.zeros(n, np.int64)
        self.last_day = np.full(n, -(10**6), np.int64)
        self.peak = np.full(n, 10**6, np.int64)
        self.peak_day = np.zeros(n, np.int64)
        self.appearances = np.zeros(n, np.int64)
        self.consecutive = np.zeros(n, np.int64)
        self.entry_rank = np.zeros(n, np.int64)
        self.entry_day = np.zeros(n, np.int64)

    def checkpoint(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Only the songs that have charted: most of the pool never does."""
        seen = np.flatnonzero(self.appearances)
        return seen, [getattr(self, name)[seen].copy() for name in STATE]

    @classmethod
    def restore(cls, n: int, checkpoint: tuple[np.ndarray, list[np.ndarray]]) -> State:
        state = cls(n)
        seen, values = checkpoint
        for name, value in zip(STATE, values):
            getattr(state, name)[seen] = value
        return state


def advance(state: State, size: int, lo: int, song: np.ndarray, day: np.ndarray, streams: np.ndarray) -> Block:
    """Each entry's history fields, from the state before the block; advances the state."""
    n = len(song)
    # Group the entries by song, then day: one packed key sorted by value, decoded again.
    key = (song << 17) | ((day - lo) << 8) | np.tile(np.arange(size), n // size)
    key.sort()
    s, offset, r = key >> 17, (key >> 8) & 511, (key & 255) + 1
    d = offset + lo
    index = np.arange(n)
    row = np.empty(n, np.int32)
    row[offset * size + r - 1] = index
    group_start = np.ones(n, bool)
    np.not_equal(s[1:], s[:-1], out=group_start[1:])
    first = np.flatnonzero(group_start)
    sizes = np.diff(np.r_[first, n])
    sf = s[first]
    # The same song's previous entry: the one before in the group, or the state at the group start.
    prev_day = np.empty(n, np.int64)
    prev_day[1:] = d[:-1]
    prev_day[first] = state.last_day[sf]
    prev_rank = np.empty(n, np.int64)
    prev_rank[1:] = r[:-1]
    prev_rank[first] = state.last_rank[sf]
    cont = prev_day == d - 1
    previous = np.where(cont, prev_rank, -1)
    appearances = index - np.repeat(first - state.appearances[sf], sizes) + 1
    # Consecutive: count from the latest break (no entry the day before, or the block's start).
    brk = ~cont
    brk[first] = True
    last_brk = np.maximum.accumulate(np.where(brk, index, 0))
    carry = np.zeros(n, np.int64)
    carry[first] = np.where(cont[first], state.consecutive[sf], 0)
    consecutive = index - last_brk + 1 + carry[last_brk]
    # Peak: a running minimum per song from the state's; its day is when it was first reached.
    shift = np.repeat(np.arange(len(first), dtype=np.int64) << 22, sizes)
    value = r.copy()
    value[first] = np.minimum(r[first], state.peak[sf])
    peak = np.minimum.accumulate(value - shift) + shift
    before = np.empty(n, np.int64)
    before[1:] = peak[:-1]
    before[first] = state.peak[sf]
    improved = r < before
    mark = np.where(improved, index, 0)
    mark[first] = first
    peak_on = np.where(improved, d, 0)
    peak_on[first] = np.where(improved[first], d[first], state.peak_day[sf])
    peak_day = peak_on[np.maximum.accumulate(mark)]
    new = state.appearances[sf] == 0
    entry_rank = np.repeat(np.where(new, r[first], state.entry_rank[sf]), sizes)
    entry_day = np.repeat(np.where(new, d[first], state.entry_day[sf]), sizes)
    status = np.full(n, 4, np.int64)  # NO_CHANGE
    status[r > previous] = 3  # MOVED_DOWN
    status[r < previous] = 2  # MOVED_UP
    status[previous == -1] = 1  # RE_ENTRY
    status[appearances == 1] = 0  # NEW_ENTRY

    last = np.r_[first[1:], n] - 1
    for name, value in zip(STATE, (r, d, peak, peak_day, appearances, consecutive, entry_rank, entry_day), strict=True):
        getattr(state, name)[sf] = value[last]
    fields = np.empty((len(FIELDS), n), np.int32)
    for i, value in enumerate((previous, peak, peak_day, appearances, consecutive, status, entry_rank, entry_day)):
        fields[i] = value
    return Block(lo, size, song.astype(np.int32), streams, row, fields)


# -- blocks and payloads -----------------------------------------------------------------
