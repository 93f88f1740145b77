# The spotify-charts code location. Minimal for now: the AWS production path (S3, Redshift, ECS)
# extends it. Checked statically (hadolint); no Docker engine runs where this project is built.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /opt/spotify-charts

COPY requirements.lock pyproject.toml README.md ./
COPY spotify_charts ./spotify_charts
COPY dbt ./dbt
COPY workspace.yaml dagster.yaml ./
# The ECS instance config (terraform/dagster.tf sets DAGSTER_HOME to deploy/ecs).
COPY deploy ./deploy

RUN pip install --no-cache-dir --no-deps -r requirements.lock \
    && pip install --no-cache-dir --no-deps . \
    && dagster-dbt project prepare-and-package --file spotify_charts/defs/dbt_project.py \
    && mkdir -p "$DAGSTER_HOME" \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && useradd --create-home --uid 10001 charts \
    && chown -R charts "$DAGSTER_HOME" /opt/spotify-charts

USER 10001
EXPOSE 4000
# A gRPC code server, as a Dagster deployment runs code locations.
CMD ["dagster", "api", "grpc", "--module-name", "spotify_charts.definitions", "--host", "0.0.0.0", "--port", "4000"]
