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
# dg (Dagster's project command line) expects the project's .venv to be the active environment.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

START ?=
END ?=
# The image `make build` builds and compose.yaml runs (CHARTS_IMAGE there).
IMAGE ?= spotify-charts:local
WEB_PORT ?= 3000

# Local settings (SPOTIFY_* variables; `make token` writes SPOTIFY_REFRESH_TOKEN here), when present.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
endif

.PHONY: install manifest demo test test-unit lint bench dev token clean build up down terraform_deploy push terraform_destroy aws-secrets aws-bootstrap aws-ui test-aws

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

# dg commands: `dg check defs` (load and validate the code location, as a deployment would),
# `dg dev`, and `dg launch` (in the demo: one run for the whole partition range, then one for the
# assets made from all of history). dg has no command yet for what stays on `dagster`: preparing
# the dbt manifest (dagster-dbt's own CLI), starting a sensor, a daemon-run backfill and the
# instance's pools (README, "Operating it").
test: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dg check defs
	$(PY) -m pytest -q --durations=25 -n 2 --dist loadgroup
	$(MAKE) --no-print-directory lint

# The inner loop: no server, no subprocess, no Dagster run.
test-unit: $(INSTALLED)
	$(PY) -m pytest -q spotify_charts_tests/unit

lint: $(INSTALLED) $(CHECKOV)/.installed
	$(VENV)/bin/ruff check spotify_charts spotify_charts_tests spotify_charts_live_tests benchmarks
	$(VENV)/bin/sqlfluff lint dbt --disable-progress-bar
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(CHECKOV)/bin/checkov --directory terraform --quiet --compact --skip-download
	terraform fmt -check -recursive terraform

bench: $(MANIFEST)
	$(PY) -m benchmarks.bench

dev: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	exec $(VENV)/bin/dg dev

# The full stack with Docker (README, "Running the full stack"): one image, PostgreSQL, the code
# server, the webserver and the daemon; compose.yaml reads .env (DAGSTER_PG_PASSWORD is required).
# PYTHON_IMAGE (a build argument) and POSTGRES_IMAGE (compose.yaml) replace the official base
# images, from the command line or .env: deploy/standin/build.sh makes both from Debian's packages.
build:
	docker build $(if $(PYTHON_IMAGE),--build-arg PYTHON_IMAGE=$(PYTHON_IMAGE)) -t $(IMAGE) .

up:
	@docker compose version >/dev/null 2>&1 || { echo "make up needs Docker with the compose plugin"; exit 1; }
	CHARTS_IMAGE=$(IMAGE) DAGSTER_WEBSERVER_PORT=$(WEB_PORT) docker compose up --detach --wait
	@echo "Dagster UI: http://localhost:$(WEB_PORT)  (logs: docker compose logs -f; stop: make down)"

# Stops and removes the containers; the volumes (instance, warehouse, raw snapshots) stay.
down:
	@docker compose version >/dev/null 2>&1 || { echo "make down needs Docker with the compose plugin"; exit 1; }
	docker compose down

token: $(INSTALLED)
	$(PY) -m spotify_charts.cli.token

# --- AWS (README, "Running on AWS"). TFVARS: your settings (terraform/example.tfvars shows them).
TFVARS ?= terraform/terraform.tfvars
TF := terraform -chdir=terraform
TF_OUT = $(TF) output -raw
TAG ?= $(shell git rev-parse --short=12 HEAD)-$(shell date -u +%Y%m%d%H%M%S)

terraform_deploy:
	@test -f $(TFVARS) || { echo "needs $(TFVARS) (copy terraform/example.tfvars)"; exit 1; }
	$(TF) init
	$(TF) plan -var-file=$(abspath $(TFVARS)) -out=deploy.tfplan
	$(TF) apply deploy.tfplan
	@rm -f terraform/deploy.tfplan
	@echo; echo "Dagster UI: $$($(TF_OUT) webserver_url)"
	@echo "Next: make push (build the image), make aws-secrets (Spotify credentials from .env),"
	@echo "      make aws-bootstrap (database users), then open the UI (make aws-ui when private)."

push:
	@test -f $(TFVARS) || { echo "needs $(TFVARS)"; exit 1; }
	aws ecr get-login-password --region $$($(TF_OUT) region) | docker login --username AWS --password-stdin $$($(TF_OUT) ecr_repository_url | cut -d/ -f1)
	docker build --platform linux/$$(grep -q 'cpu_architecture *= *"ARM64"' $(TFVARS) && echo arm64 || echo amd64) -t $$($(TF_OUT) ecr_repository_url):$(TAG) .
	docker push $$($(TF_OUT) ecr_repository_url):$(TAG)
	# New task definitions with the new tag; ECS replaces the services' tasks.
	$(TF) apply -var-file=$(abspath $(TFVARS)) -var image_tag=$(TAG)
	@echo "Deployed image tag $(TAG): set image_tag = \"$(TAG)\" in $(TFVARS) so the next terraform_deploy keeps it."

aws-secrets: $(INSTALLED)
	$(TF) output -json | $(PY) -m spotify_charts.cli.aws secrets --outputs -

aws-bootstrap:
	@set -e; cluster=$$($(TF_OUT) ecs_cluster); boot=$$($(TF) output -json bootstrap); \
	definition=$$(echo "$$boot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["task_definition"])'); \
	network=$$(echo "$$boot" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(json.dumps({"awsvpcConfiguration": {"subnets": b["subnets"], "securityGroups": [b["security_group"]], "assignPublicIp": "DISABLED"}}))'); \
	task=$$(aws ecs run-task --cluster $$cluster --launch-type FARGATE --task-definition $$definition --network-configuration "$$network" --query 'tasks[0].taskArn' --output text); \
	echo "bootstrap task $$task"; aws ecs wait tasks-stopped --cluster $$cluster --tasks $$task; \
	code=$$(aws ecs describe-tasks --cluster $$cluster --tasks $$task --query 'tasks[0].containers[0].exitCode' --output text); \
	test "$$code" = 0 || { echo "bootstrap failed (exit $$code): see the log group /$$($(TF_OUT) ecs_cluster)/bootstrap"; exit 1; }; \
	for service in $$($(TF) output -json ecs_services | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do \
	  aws ecs update-service --cluster $$cluster --service $$service --force-new-deployment >/dev/null; done; \
	echo "users created, passwords in Secrets Manager; services restarted to read them"

# The private UI on http://127.0.0.1:3000 through ECS Exec (needs the Session Manager plugin).
aws-ui:
	@set -e; cluster=$$($(TF_OUT) ecs_cluster); \
	task=$$(aws ecs list-tasks --cluster $$cluster --service-name $$cluster-webserver --query 'taskArns[0]' --output text); \
	runtime=$$(aws ecs describe-tasks --cluster $$cluster --tasks $$task --query 'tasks[0].containers[0].runtimeId' --output text); \
	aws ssm start-session --target "ecs:$${cluster}_$${task##*/}_$$runtime" --document-name AWS-StartPortForwardingSession \
	  --parameters '{"portNumber":["3000"],"localPortNumber":["3000"]}'

terraform_destroy:
	@test -f $(TFVARS) || { echo "needs $(TFVARS)"; exit 1; }
	@echo "Deletes everything, data included, once data_protection = false has been applied (README, Teardown)."
	$(TF) destroy -var-file=$(abspath $(TFVARS))

# A live run against a deployed stack (README, "Running on AWS"); never part of `make test`.
test-aws: $(MANIFEST)
	@$(TF) output -json > .aws-outputs.json 2>/dev/null || echo '' > .aws-outputs.json
	AWS_STACK_OUTPUTS=$(CURDIR)/.aws-outputs.json $(PY) -m pytest -q -rs -p no:cacheprovider spotify_charts_live_tests

clean:
	rm -rf $(VENV) $(CHECKOV) dbt/target dbt/logs $(DAGSTER_HOME)
