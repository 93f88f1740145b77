"""Benchmarks (`make bench`, README "Benchmarks"; figures in BENCHMARKS.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def fresh_instance(folder: Path, regions: str, **settings: str) -> dict[str, str]:
    """The environment of a run on a new local instance (`folder/dagster_home`, the repository's
    dagster.yaml) with its data in `folder/data`: this process's environment plus `settings`."""
    home = folder / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPOTIFY_CHARTS_DATA_DIR": str(folder / "data"),
        "SPOTIFY_CHARTS_REGIONS": regions,
        **settings,
    }
