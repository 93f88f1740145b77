"""Assets by layer: raw snapshots, warehouse staging, dbt models."""
