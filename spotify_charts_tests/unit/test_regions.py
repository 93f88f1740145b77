import pytest

from spotify_charts.regions import (
    DEFAULT_REGIONS,
    RegionConfigError,
    chart_size,
    daily_alias,
    parse_regions,
    region_names,
    region_of_alias,
)
from spotify_charts_tests.support.helpers import SHARED_FIXTURES


def test_region_list_is_the_shared_one_with_global_first():
    shipped = list(region_names())
    shared = [line.split(",")[0] for line in (SHARED_FIXTURES / "regions.csv").read_text().splitlines()[1:]]
    assert shipped == shared
    assert len(shipped) == 73 and shipped[0] == "global"


def test_defaults_and_normalisation():
    assert parse_regions(None) == DEFAULT_REGIONS
    assert parse_regions("  ") == DEFAULT_REGIONS
    assert parse_regions(" GB, us,gb ,") == ("gb", "us")


def test_unknown_code_is_named_with_the_valid_ones():
    with pytest.raises(RegionConfigError) as err:
        parse_regions("global,xx,uk")
    message = str(err.value)
    assert "'xx'" in message and "'uk'" in message
    assert "global, ae, ar" in message and "za" in message


def test_aliases_and_sizes():
    assert daily_alias("de") == "regional-de-daily"
    assert region_of_alias("regional-global-daily") == "global"
    with pytest.raises(ValueError):
        region_of_alias("regional-xx-daily")
    with pytest.raises(ValueError):
        region_of_alias("viral-us-daily")
    assert chart_size("global") == 200 and chart_size("us") == 200 and chart_size("is") == 50
