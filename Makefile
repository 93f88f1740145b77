# spotify-charts: `make demo` runs the pipeline on the built-in sample charts; `make test` runs every test.
# Both create .venv and install the pinned project on first use.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHECKOV := .venv-checkov
MANIFEST := dbt/target/manifest.json
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

START ?=
END ?=

# Local settings (SPOTIFY_* variables; `make token` writes SPOTIFY_REFRESH_TOKEN here), when present.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
endif

.PHONY: install manifest demo test test-unit lint bench dev token clean

$(INSTALLED): pyproject.toml requirements.lock requirements-dev.lock
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	# Compile bytecode now: with PYTHONDONTWRITEBYTECODE set, every process would compile dagster anew.
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements-dev.lock -e . --no-deps
	@touch $@

install: $(INSTALLED)

# checkov pins its own boto3, so it lives in a virtual environment of its own.
$(CHECKOV)/.installed: requirements-checkov.lock $(INSTALLED)
	$(VENV)/bin/uv venv --quiet --allow-existing --python $(PY) $(CHECKOV)
	$(VENV)/bin/uv pip install --quiet --python $(CHECKOV)/bin/python -r requirements-checkov.lock --no-deps
	@touch $@

$(MANIFEST): $(INSTALLED) $(shell find dbt/models dbt/macros dbt/tests -type f 2>/dev/null) dbt/dbt_project.yml dbt/profiles.yml
	$(VENV)/bin/dagster-dbt project prepare-and-package --file spotify_charts/defs/dbt_project.py
	@touch $@

manifest: $(MANIFEST)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

demo: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m spotify_charts.cli.demo demo $(if $(START),--start $(START)) $(if $(END),--end $(END))

test: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory lint

# The inner loop: no server, no subprocess, no Dagster run.
test-unit: $(INSTALLED)
	$(PY) -m pytest -q spotify_charts_tests/unit

lint: $(INSTALLED) $(CHECKOV)/.installed
	$(VENV)/bin/ruff check spotify_charts spotify_charts_tests benchmarks
	$(VENV)/bin/sqlfluff lint dbt --disable-progress-bar
	$(VENV)/bin/hadolint Dockerfile
	$(CHECKOV)/bin/checkov --directory terraform --quiet --compact --skip-download

bench: $(MANIFEST)
	$(PY) -m benchmarks.bench

dev: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	exec $(VENV)/bin/dagster dev -w workspace.yaml

token: $(INSTALLED)
	$(PY) -m spotify_charts.cli.token

clean:
	rm -rf $(VENV) $(CHECKOV) dbt/target dbt/logs $(DAGSTER_HOME)
