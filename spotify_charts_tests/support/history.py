"""Chart history CSV files in the public history's layout, for the import's unit and Dagster tests."""

from __future__ import annotations

import gzip
from pathlib import Path

HEADER = "title,rank,date,artist,url,region,chart,trend,streams"
URL = "https://open.spotify.com/track/"
# Ranks 1 and 2 of the global top200 of 2017-01-01, as the public file has them: names quoted where
# they hold a comma, streams written as a float.
FIRST_ROWS = [
    f'"Chantaje (feat. Maluma)",1,2017-01-01,"Shakira, Maluma",{URL}6mICuAdrwEjh6Y6lroV2Kg,Global,top200,SAME_POSITION,'
    "253019",
    f'"Vente Pa\' Ca, Remix",2,2017-01-01,Ricky Martin,{URL}7DM4BPaS7uofFul3ywMe46,Global,top200,MOVE_UP,223988.0',
]


def write_history(path: Path, rows: list[str], compress: bool = False) -> Path:
    """`rows` under the header at `path`, gzipped (as a reproducible file) if `compress`."""
    text = "\n".join([HEADER, *rows]) + "\n"
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if compress else text.encode())
    return path
