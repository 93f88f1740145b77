"""The run tags the platform reads and writes, in one place.

Dagster's own tags here are the documented, stable names (Dagster's docs on partitioned runs and
run keys) that the public API exposes only as strings; the private modules that also define them
are not imported. The `spotify_charts/` tags are the platform's own.
"""

# A run over a range of partitions (what `dg launch --partition-range` and the sensors create).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# A run over one partition.
PARTITION_TAG = "dagster/partition"
# The run key a sensor or schedule gave the run's request (Dagster skips a key it has seen).
RUN_KEY_TAG = "dagster/run_key"

# The chart dates an ingest run covers, "first..last" (inclusive ISO dates).
CHART_DATES_TAG = "spotify_charts/chart_dates"
# Set on a run whose process was found gone (killed or crashed) and that was marked failed for it.
WORKER_LOST_TAG = "spotify_charts/worker_lost"
