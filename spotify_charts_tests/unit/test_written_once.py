"""Facts kept in one place, with the copies that must exist checked against it: the region list
(the package's regions.csv, which the dbt seed must equal) and the contract tables (the dashboard's
CONTRACT_TABLES, which dbt's enforced contracts and the README's table must match)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts.defs.dbt_project import dbt_project

REPO = Path(__file__).resolve().parents[2]


def test_the_dbt_seed_is_the_packages_region_list_byte_for_byte():
    # dbt cannot read a seed outside its project, so the seed is a copy; this keeps it one.
    package = (REPO / "spotify_charts" / "data" / "regions.csv").read_bytes()
    assert (REPO / "dbt" / "seeds" / "regions.csv").read_bytes() == package, (
        "cp spotify_charts/data/regions.csv dbt/seeds/"
    )


def test_the_contract_tables_are_dbts_enforced_contracts_and_the_readmes():
    manifest = json.loads(dbt_project.manifest_path.read_text())
    enforced = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced")
    }
    assert enforced == set(CONTRACT_TABLES) and len(CONTRACT_TABLES) == len(set(CONTRACT_TABLES))
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Analytics: the contract tables") :]
    section = section[: section.index("\n## ")]
    assert set(re.findall(r"^\| `(\w+)` \|", section, re.M)) == set(CONTRACT_TABLES)
