# floe: `make demo` and `make test` are the contract; `make help` lists everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
FLOE_CACHE ?= $(HOME)/.cache/floe
export FLOE_CACHE
export UV_CACHE_DIR := $(FLOE_CACHE)/uv
export UV_PYTHON := $(PYTHON)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(FLOE_CACHE)/tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest

.PHONY: help setup setup-platform demo test test-unit test-hostile test-integration test-hygiene test-e2e bench bench-dataplane bench-observability bench-platform lint traceability clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-18s\033[0m %s\n",$$1,$$2}'

$(FLOE_CACHE)/tools/bin/uv:
	@mkdir -p $(FLOE_CACHE)
	$(PYTHON) -m venv $(FLOE_CACHE)/tools
	$(FLOE_CACHE)/tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced ## Install floe and its Python dependencies (cached under ~/.cache/floe)
	@echo "setup: ready ($(VENV), caches in $(FLOE_CACHE))"

setup-platform: setup ## Also install the local platform's services (Debian packages, Jaeger built with go)
	@scripts/setup-system.sh
	@services/jaeger/install.sh >/dev/null
	@echo "setup-platform: services installed"

demo: setup ## Run the three demo products on the embedded default and show the marts
	$(BIN)/floe demo --manifest demo/manifest.embedded.yaml

test: lint test-unit test-hostile test-hygiene test-integration test-e2e ## Every lane
	@echo "make test: all lanes passed"

test-unit: setup ## Unit lane: no processes, seconds
	$(PYTEST) tests/unit -m "not integration and not e2e" -q

test-hostile: setup ## Hostile inputs: >= 10,000 generated bad manifests/floe.yaml (fixed seed), YAML bombs, paths
	$(PYTEST) tests/hostile -q -s

test-integration: setup ## Integration lane: the embedded runtime (dbt, Dagster, Iceberg) for real
	$(PYTEST) tests/integration -q

test-hygiene: setup ## Secret scan, bandit, no eval/exec/shell=True
	$(PYTEST) tests/hygiene -q

test-e2e: setup-platform ## End-to-end lane: `floe platform up`, the suite, `floe platform down`
	scripts/e2e.sh -q

traceability: setup ## Requirement -> test matrix; fails on a gap
	$(BIN)/python scripts/traceability.py

bench: setup ## Benchmarks: CLI start-up and compile (numbers reported, not asserted)
	$(BIN)/python benchmarks/run.py

bench-dataplane: setup ## Benchmark: iot-telemetry seed -> mart at 1M and 10M readings vs DuckDB -> Parquet
	$(BIN)/python benchmarks/dataplane.py --scales 1000 10000

bench-observability: setup ## Benchmark: tracing + lineage overhead on `floe compile` (on vs off, own collector on 14417/14418)
	$(BIN)/python benchmarks/observability.py --repeat 7

bench-platform: setup-platform ## Benchmark: cold `floe platform up` and the platform's memory
	$(BIN)/python benchmarks/platform_bench.py up

lint: setup ## ruff + mypy (strict on src/) + no import cycle between floe's packages
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python scripts/import_cycles.py

clean: ## Remove build outputs (keeps ~/.cache/floe)
	rm -rf $(VENV) demo/*/target demo/*/logs demo/.floe
