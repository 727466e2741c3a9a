# The flash-sale order pipeline. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
LS_VENV  := .venv-localstack
CKV_VENV := .venv-checkov
PY       := $(VENV)/bin/python
export STATE_DIR ?= $(CURDIR)/.state
# local deploys talk to the running platform: its env file holds the endpoints
STACKS_ENV = set -a; [ ! -f $(STATE_DIR)/env ] || . $(STATE_DIR)/env; set +a;

DEV_INPUTS := requirements-dev.txt constraints/dev.txt shared/pyproject.toml shared/testsupport/pyproject.toml localaws/pyproject.toml \
              services/api/pyproject.toml services/processor/pyproject.toml services/payment_fn/pyproject.toml \
              cloudformation/pyproject.toml traces/pyproject.toml \
              localaws/lambda_executor/pyproject.toml load/pyproject.toml \
              chaos/pyproject.toml toolkit/pyproject.toml
LS_INPUTS  := constraints/localstack.txt localaws/lambda_executor/pyproject.toml

$(VENV)/.installed: $(DEV_INPUTS)
	@scripts/install.sh dev

$(LS_VENV)/.installed: $(LS_INPUTS)
	@scripts/install.sh localstack

$(CKV_VENV)/.installed: constraints/checkov.txt
	@scripts/install.sh checkov

.PHONY: help install up down status logs env test test-unit lint fmt clean traces templates \
        validate-stacks package-payment-fn deploy-local deploy-all redrive demo figures chaos \
        audit reconcile \
        load-normal load-flash load-spike load-browse load-compare load-workers bench cost

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(VENV)/.installed $(LS_VENV)/.installed $(CKV_VENV)/.installed ## create/update the venvs (make up does this too)

up: install ## install what is missing, start the local platform and the pipeline (idempotent; UP_ARGS=--platform-only)
	@$(PY) -m localaws up $(UP_ARGS)

down: ## stop exactly what `make up` started (SIGTERM, then SIGKILL after a grace period)
	@if [ -x $(PY) ]; then $(PY) -m localaws down; else echo "nothing installed, nothing running"; fi

status: $(VENV)/.installed ## show what runs where
	@$(PY) -m localaws status

logs: $(VENV)/.installed ## tail the logs of every process (NAME=localstack|moto|xray-relay|... for one)
	@$(PY) -m localaws logs $(NAME)

restart-%: $(VENV)/.installed ## restart one process with the current environment, e.g. make restart-processor
	@$(PY) -m localaws restart $*

env: $(VENV)/.installed ## print the environment a shell can source to talk to the local platform
	@$(PY) -m localaws env

test: install ## run every test (unit, then integration and e2e against `make up`)
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed ## run the unit tests only (no platform needed)
	@$(PY) -m pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff check and format check
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt: $(VENV)/.installed ## format the code with ruff
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

traces: $(VENV)/.installed ## list recent X-Ray traces; ORDER=<id> shows one order's trace (ARGS=--json ...)
	@$(STACKS_ENV) $(PY) -m flashsale_traces $(if $(ORDER),--order $(ORDER)) $(ARGS)

demo: $(VENV)/.installed ## one order per phase (sync, async ECS, async Lambda): each status as it changes, a summary
	@$(STACKS_ENV) $(PY) scripts/demo.py $(ARGS)

figures: $(VENV)/.installed ## pipeline figures: async acceptance at 20/100 clients, sync orders in 60 s -> results/
	@$(STACKS_ENV) $(PY) scripts/pipeline_figures.py $(ARGS)

chaos: $(VENV)/.installed ## fault-injection scenarios against the running stack, each closed by an audit (SCENARIOS="duplicates ...")
	@$(STACKS_ENV) $(PY) -m flashsale_chaos $(SCENARIOS) $(ARGS)

audit: $(VENV)/.installed ## audit the running stack: each order's charges vs its status, stock conserved, none stuck; exit 1 on a violation
	@$(STACKS_ENV) $(PY) -m flashsale_chaos.stack_audit $(ARGS)

reconcile: $(VENV)/.installed ## settle orders left processing from the gateway's answer by idempotency key (ARGS=--dry-run)
	@$(STACKS_ENV) $(PY) -m order_processor reconcile $(ARGS)

redrive: $(VENV)/.installed ## move dead-lettered orders back to their queue (QUEUE=order|payment)
	@$(STACKS_ENV) $(PY) -m order_processor redrive --queue $(or $(QUEUE),order)

PHASE    ?= async-ecs
RUN_TIME ?= 60s

load-normal: $(VENV)/.installed ## normal load, 5 users, headless (PHASE=sync|async-ecs|async-lambda RUN_TIME=60s)
	@$(STACKS_ENV) $(PY) -m flashsale_load.run normal --phase $(PHASE) --run-time $(RUN_TIME)

load-flash: $(VENV)/.installed ## flash sale, 20 users, headless (PHASE=... RUN_TIME=60s)
	@$(STACKS_ENV) $(PY) -m flashsale_load.run flash --phase $(PHASE) --run-time $(RUN_TIME)

load-spike: $(VENV)/.installed ## spike shape: quiet, 300 users in 5 s, hold, drop (PHASE=... SPIKE_PEAK_USERS=...)
	@$(STACKS_ENV) $(PY) -m flashsale_load.run spike --phase $(PHASE)

load-browse: $(VENV)/.installed ## browse-and-buy mix, 20 users (PHASE=... RUN_TIME=60s)
	@$(STACKS_ENV) $(PY) -m flashsale_load.run browse --phase $(PHASE) --run-time $(RUN_TIME)

# load-compare's own default window (15 s: each phase can drain in DRAIN_TIMEOUT, see load/README.md)
COMPARE_RUN_TIME = $(if $(filter file,$(origin RUN_TIME)),15s,$(RUN_TIME))

load-compare: $(VENV)/.installed ## the same flash sale against sync, async-ecs, async-lambda; report + charts
	@$(STACKS_ENV) RUN_TIME=$(COMPARE_RUN_TIME) $(PY) -m flashsale_load.compare

load-workers: $(VENV)/.installed ## one backlog drained at concurrency 1/5/20/100, ECS and Lambda; chart
	@$(STACKS_ENV) $(PY) -m flashsale_load.workers

bench: $(VENV)/.installed ## acceptance vs a bare endpoint, drain ratio, cold start, RSS (ONLY="acceptance drain ...")
	@$(STACKS_ENV) $(PY) -m flashsale_load.bench $(if $(ONLY),--only $(ONLY))

cost: $(VENV)/.installed ## ECS vs Lambda monthly cost, study vs deployed model (ARGS="--compare-run results/<run>")
	@$(STACKS_ENV) $(PY) -m flashsale_load.cost --stack local $(ARGS)

templates: $(VENV)/.installed ## write every CloudFormation template (JSON) to build/templates
	@$(PY) -m flashsale_stacks templates --out build/templates

validate-stacks: $(VENV)/.installed $(CKV_VENV)/.installed ## cfn-lint, IAM least-privilege check and checkov scan of every template
	@$(PY) -m flashsale_stacks validate
	@$(PY) -m flashsale_stacks scan

package-payment-fn: $(VENV)/.installed ## build build/payment_fn.zip (deterministic) and print its size
	@$(PY) scripts/package_payment_fn.py

deploy-local: $(VENV)/.installed ## package payment_fn, deploy data/messaging/payment_fn to the running platform
	@$(STACKS_ENV) $(PY) -m flashsale_stacks deploy-local

deploy-all: $(VENV)/.installed ## every stack in dependency order (ENV=aws for AWS; needs IMAGE_TAG there)
	@$(if $(filter aws,$(ENV)),,$(STACKS_ENV)) $(PY) -m flashsale_stacks deploy-all --env $(or $(ENV),local) $(STACK_ARGS)

deploy-payment-fn: package-payment-fn

deploy-%: $(VENV)/.installed ## deploy one stack: make deploy-messaging|deploy-payment-fn|deploy-api ... [ENV=local|aws]
	@$(if $(filter aws,$(ENV)),,$(STACKS_ENV)) $(PY) -m flashsale_stacks deploy $(subst -,_,$*) --env $(or $(ENV),local) $(STACK_ARGS)

clean: down ## stop everything and remove the runtime state (.state) and both venvs
	rm -rf $(STATE_DIR) $(VENV) $(LS_VENV) $(CKV_VENV)
