#!/bin/sh
# Run once by the postgres image on an empty data volume (compose.yaml): the `postgres` warehouse's
# database beside the Dagster instance's, owned by the same user.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "create database \"$WAREHOUSE_DATABASE\" owner \"$POSTGRES_USER\""
