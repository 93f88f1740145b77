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

# Local settings (SPOTIFY_* variables; `make token` writes SPOTIFY_REFRESH_TOKEN here), when present:
# read as data by spotify_charts/settings/envfile.py (no expansion; `$` and `#` kept) and exported
# to the command that follows. A malformed line stops the command, naming its line.
ENV_FILE ?= .env
WITH_ENV = exports="$$($(PY) -m spotify_charts.settings.envfile $(ENV_FILE))" && eval "$$exports" &&

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
	$(WITH_ENV) $(PY) -m spotify_charts.cli.demo demo $(if $(START),--start $(START)) $(if $(END),--end $(END))

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
	$(TF) init -input=false -backend=false $(TF_PLUGIN_FLAG) >/dev/null
	$(TF) validate -no-color
	$(TF) test -no-color

bench: $(MANIFEST)
	$(PY) -m benchmarks.bench

dev: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(WITH_ENV) exec $(VENV)/bin/dg dev

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
	$(WITH_ENV) $(PY) -m spotify_charts.cli.token --env-file $(ENV_FILE)

# --- AWS (docs/aws.md). TFVARS: your settings (terraform/example.tfvars shows them); BACKEND: where
# the state lives (terraform/backend.hcl.example). Every command gets the region from the state.
TFVARS ?= terraform/terraform.tfvars
BACKEND ?= terraform/backend.hcl
TF := terraform -chdir=terraform
TF_OUT = $(TF) output -raw
# A filesystem mirror of the providers (a folder holding registry.terraform.io) when the machine has
# one, so `make lint` initialises offline; the registry otherwise. TF_PLUGIN_DIR= forces the registry.
TF_PLUGIN_DIR ?= $(patsubst %/registry.terraform.io,%,$(firstword $(wildcard /opt/tf-plugins/registry.terraform.io /usr/share/terraform/plugins/registry.terraform.io)))
TF_PLUGIN_FLAG = $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))
# The image tag `make push` builds, pushes and applies: computed once per make invocation.
TAG := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)-$(shell date -u +%Y%m%d%H%M%S)
# The tag last pushed, which every later terraform_deploy keeps (git-ignored); from a clone without
# it, the tag the applied stack runs (output image_tag), so a deploy never stops the services.
TAG_FILE := terraform/.image-tag
TF_VARS = -var-file=$(abspath $(TFVARS)) $$(tag=$$(cat $(TAG_FILE) 2>/dev/null || $(TF_OUT) image_tag 2>/dev/null || true); test -n "$$tag" && echo "-var image_tag=$$tag")
AWS_REGION_OF_STACK = $$($(TF_OUT) region)

terraform_deploy:
	@test -f $(TFVARS) || { echo "needs $(TFVARS) (copy terraform/example.tfvars)"; exit 1; }
	@test -f $(BACKEND) || { echo "needs $(BACKEND) (copy terraform/backend.hcl.example; docs/aws.md, State)"; exit 1; }
	$(TF) init -input=false -backend-config=$(abspath $(BACKEND))
	$(TF) plan -input=false $(TF_VARS) -out=deploy.tfplan
	$(TF) apply deploy.tfplan
	@rm -f terraform/deploy.tfplan
	@echo; echo "Dagster UI: $$($(TF_OUT) webserver_url)"
	@test "$$($(TF_OUT) services_running)" = true || echo "Next: make aws-secrets, then make push (the image; the services start, and the first push runs make aws-bootstrap: the database users)."

# The first push starts the services, which cannot log in before the bootstrap task has created
# the database users: it runs aws-bootstrap right after.
push:
	@test -f $(TFVARS) || { echo "needs $(TFVARS)"; exit 1; }
	@set -e; region=$(AWS_REGION_OF_STACK); repo=$$($(TF_OUT) ecr_repository_url); \
	before=$$($(TF_OUT) services_running); arch=$$($(TF) output -raw cpu_architecture); \
	aws ecr get-login-password --region $$region | docker login --username AWS --password-stdin $${repo%%/*}; \
	docker build --platform linux/$$( [ "$$arch" = ARM64 ] && echo arm64 || echo amd64) -t $$repo:$(TAG) .; \
	docker push $$repo:$(TAG); \
	echo $(TAG) > $(TAG_FILE); \
	echo "New task definitions with the tag $(TAG); ECS replaces the services' tasks."; \
	$(TF) apply $(TF_VARS); \
	echo "Deployed image tag $(TAG) (kept in $(TAG_FILE) for the next terraform_deploy)."; \
	if [ "$$before" != true ]; then \
	  echo "First image: creating the database users (make aws-bootstrap)"; $(MAKE) --no-print-directory aws-bootstrap; fi

aws-secrets: $(INSTALLED)
	$(WITH_ENV) $(TF) output -json | AWS_REGION=$(AWS_REGION_OF_STACK) $(PY) -m spotify_charts.cli.aws secrets --outputs -

aws-bootstrap:
	@set -e; region=$(AWS_REGION_OF_STACK); cluster=$$($(TF_OUT) ecs_cluster); boot=$$($(TF) output -json bootstrap); \
	definition=$$(echo "$$boot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["task_definition"])'); \
	network=$$(echo "$$boot" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(json.dumps({"awsvpcConfiguration": {"subnets": b["subnets"], "securityGroups": [b["security_group"]], "assignPublicIp": "DISABLED"}}))'); \
	task=$$(aws ecs run-task --region $$region --cluster $$cluster --launch-type FARGATE --task-definition $$definition --network-configuration "$$network" --query 'tasks[0].taskArn' --output text); \
	echo "bootstrap task $$task"; aws ecs wait tasks-stopped --region $$region --cluster $$cluster --tasks $$task; \
	code=$$(aws ecs describe-tasks --region $$region --cluster $$cluster --tasks $$task --query 'tasks[0].containers[0].exitCode' --output text); \
	test "$$code" = 0 || { echo "bootstrap failed (exit $$code): see the log group /$$cluster/bootstrap"; exit 1; }; \
	for service in $$($(TF) output -json ecs_services | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do \
	  aws ecs update-service --region $$region --cluster $$cluster --service $$service --force-new-deployment >/dev/null; done; \
	echo "users created, passwords in Secrets Manager; services restarted to read them (the daemon's task migrates Dagster's schema first)"

# The private UI on http://127.0.0.1:3000 through ECS Exec (needs the Session Manager plugin).
aws-ui:
	@set -e; region=$(AWS_REGION_OF_STACK); cluster=$$($(TF_OUT) ecs_cluster); \
	task=$$(aws ecs list-tasks --region $$region --cluster $$cluster --service-name $$cluster-webserver --query 'taskArns[0]' --output text); \
	runtime=$$(aws ecs describe-tasks --region $$region --cluster $$cluster --tasks $$task --query 'tasks[0].containers[0].runtimeId' --output text); \
	aws ssm start-session --region $$region --target "ecs:$${cluster}_$${task##*/}_$$runtime" --document-name AWS-StartPortForwardingSession \
	  --parameters '{"portNumber":["3000"],"localPortNumber":["3000"]}'

# Refuses while the applied configuration protects the data (data_protection, docs/aws.md,
# Teardown); otherwise snapshots the RDS instance (Dagster's history, and the warehouse with
# warehouse = "postgres") and the Redshift namespace (the provider deletes it without one), takes
# the KMS key that encrypts those snapshots out of Terraform's hands (a destroy would schedule its
# deletion and leave them unreadable), then destroys everything else.
terraform_destroy:
	@test -f $(TFVARS) || { echo "needs $(TFVARS)"; exit 1; }
	@set -e; protected=$$($(TF_OUT) data_protection); \
	test "$$protected" = false || { echo "refused: data_protection is on in the applied stack; set data_protection = false in $(TFVARS), run make terraform_deploy, then this again (docs/aws.md, Teardown)"; exit 1; }; \
	region=$(AWS_REGION_OF_STACK); stamp=$$(date -u +%Y%m%d%H%M%S); \
	instance=$$($(TF_OUT) rds_instance); aws rds create-db-snapshot --region $$region --db-instance-identifier $$instance --db-snapshot-identifier $$instance-final-$$stamp >/dev/null; \
	aws rds wait db-snapshot-available --region $$region --db-snapshot-identifier $$instance-final-$$stamp; \
	echo "RDS snapshot $$instance-final-$$stamp kept until you delete it"; \
	if [ "$$($(TF_OUT) warehouse)" = redshift ]; then \
	  namespace=$$($(TF_OUT) redshift_namespace); snapshot=$$namespace-final-$$stamp; \
	  aws redshift-serverless create-snapshot --region $$region --namespace-name $$namespace --snapshot-name $$snapshot --retention-period 35 >/dev/null; \
	  until [ "$$(aws redshift-serverless get-snapshot --region $$region --snapshot-name $$snapshot --query snapshot.status --output text)" = AVAILABLE ]; do sleep 15; done; \
	  echo "Redshift snapshot $$snapshot kept for 35 days"; fi; \
	key=$$($(TF_OUT) kms_key_arn); $(TF) state rm aws_kms_key.data >/dev/null; \
	echo "KMS key $$key kept (it decrypts the snapshots; USD 1 a month): once they are deleted, aws kms schedule-key-deletion --region $$region --key-id $$key"
	$(TF) destroy $(TF_VARS)
	@rm -f $(TAG_FILE)

# A live run against a deployed stack (docs/aws.md); never part of `make test`.
AWS_OUTPUTS ?= $(CURDIR)/.aws-outputs.json
test-aws: $(MANIFEST)
	@$(TF) output -json > $(AWS_OUTPUTS) 2>/dev/null || echo '' > $(AWS_OUTPUTS)
	region=$$($(TF_OUT) region 2>/dev/null || true); \
	env $${region:+AWS_REGION=$$region} AWS_STACK_OUTPUTS=$(AWS_OUTPUTS) $(PY) -m pytest -q -rs -p no:cacheprovider spotify_charts_live_tests

clean:
	rm -rf $(VENV) $(CHECKOV) dbt/target dbt/logs $(DAGSTER_HOME)
