# spotify-charts: one image, three roles, chosen by command (compose.yaml runs all of them):
#   code-server (default)   the code location over gRPC on port 4000
#   webserver               the UI and its GraphQL API on port 3000
#   daemon                  schedules, sensors, backfills, the run queue, run monitoring and retries
#   migrate                 create or upgrade the instance's tables (before the others start)
# The instance is deploy/dagster.yaml (PostgreSQL, from DAGSTER_PG_* variables); the webserver and
# daemon load the code from the code server (deploy/workspace.yaml). Only what the pipeline needs
# to run is installed (requirements.lock; no test or lint tools); the dbt manifest is built here.
# The base is the official image; PYTHON_IMAGE names another with Python 3.11 at /usr/local/bin
# (`make build PYTHON_IMAGE=...`; deploy/standin/build.sh makes one from Debian's packages).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    SPOTIFY_CHARTS_DATA_DIR=/opt/spotify-charts/data

WORKDIR /opt/spotify-charts

# What no role runs is left out: the packages' own test suites (pandas', numpy's, pyarrow's,
# networkx's: ~80 MB) and pyarrow's C++ headers (BENCHMARKS.md, "The image and the Docker test").
COPY requirements.lock ./
RUN pip install --no-cache-dir --no-deps -r requirements.lock \
    && site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
    && rm -rf "$site/pandas/tests" "$site/pyarrow/tests" "$site/pyarrow/include" \
    && find "$site/numpy" "$site/networkx" -depth -type d -name tests -exec rm -rf {} +

COPY pyproject.toml README.md ./
COPY spotify_charts ./spotify_charts
COPY dbt ./dbt
COPY workspace.yaml dagster.yaml ./
# The ECS instance config (terraform/dagster.tf sets DAGSTER_HOME to deploy/ecs).
COPY deploy ./deploy

RUN pip install --no-cache-dir --no-deps . \
    && dagster-dbt project prepare-and-package --file spotify_charts/defs/dbt_project.py \
    && mkdir -p "$DAGSTER_HOME/storage" "$SPOTIFY_CHARTS_DATA_DIR" \
    && cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && useradd --create-home --uid 10001 charts \
    && chown -R charts "$DAGSTER_HOME" /opt/spotify-charts

USER 10001
EXPOSE 3000 4000
# Each role's own probe: the code server's gRPC ping, the webserver's /server_info, the daemon's
# heartbeat in the instance (the role is read from the container's main process).
HEALTHCHECK --interval=30s --timeout=60s --start-period=120s --retries=3 \
    CMD ["python", "-m", "spotify_charts.cli.stack", "healthcheck"]
# A role (migrate, code-server, webserver, daemon) runs through the launcher; any other command
# (the ECS task definitions', EcsRunLauncher's) is executed as given.
ENTRYPOINT ["python", "-m", "spotify_charts.cli.stack"]
CMD ["code-server"]
