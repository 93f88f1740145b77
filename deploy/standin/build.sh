#!/usr/bin/env bash
# Stand-in base images for a machine that reaches Debian's package mirror but no image registry
# (README, "Running the full stack"; docs/full-stack.md). Builds, from Debian bookworm's packages:
#   spotify-charts-standin/debian:bookworm     debootstrap --variant=minbase, imported
#   spotify-charts-standin/python:3.11-bookworm   for python:3.11-slim-bookworm (Dockerfile's PYTHON_IMAGE)
#   spotify-charts-standin/postgres:15-bookworm   for postgres:17-bookworm (compose.yaml's POSTGRES_IMAGE)
# An image that is already there is kept (delete it to rebuild). Needs root, debootstrap and docker;
# DEBIAN_MIRROR picks another mirror than debootstrap's default.
# Then: make build PYTHON_IMAGE=spotify-charts-standin/python:3.11-bookworm
#       make up POSTGRES_IMAGE=spotify-charts-standin/postgres:15-bookworm   (or both in .env)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=spotify-charts-standin/debian:bookworm
python=spotify-charts-standin/python:3.11-bookworm
postgres=spotify-charts-standin/postgres:15-bookworm

have() { docker image inspect "$1" >/dev/null 2>&1; }
root=$(mktemp -d)
context=$(mktemp -d)
trap 'rm -rf "$root" "$context"' EXIT

if ! have "$base"; then
  debootstrap --variant=minbase bookworm "$root" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"}
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' - "$base"
fi
# The build context: these files, plus the certificate authorities this machine adds to Debian's
# (/usr/local/share/ca-certificates; a TLS-inspecting proxy's, say), so that pip inside
# `make build` trusts what the machine's own pip trusts.
cp "$here"/python.Dockerfile "$here"/postgres.Dockerfile "$here"/postgres-entrypoint.sh "$context"/
mkdir "$context/ca-certificates"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/ca-certificates/" \; 2>/dev/null || true
have "$python" || docker build --build-arg BASE="$base" -t "$python" -f "$context/python.Dockerfile" "$context"
have "$postgres" || docker build --build-arg BASE="$base" -t "$postgres" -f "$context/postgres.Dockerfile" "$context"
echo "stand-ins ready: PYTHON_IMAGE=$python POSTGRES_IMAGE=$postgres"
