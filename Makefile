# Entry points; the scripts do the work (see scripts/).
#   make run                 start the demo at http://127.0.0.1:8000/ (PORT=8080 make run)
#   make test                lint + full test suite against throwaway PostgreSQL/Redis
#   make test ARGS="-k foo"  pass arguments through to pytest
#   make lint                ruff check and import-linter's architecture contracts
#   make bench               the performance benchmark (SCALE=small for a quick one)

ARGS ?=

.PHONY: run test lint

run:
	./scripts/demo.sh

test:
	./scripts/test.sh $(ARGS)

lint:
	bash -c 'source scripts/_venv.sh && ensure_venv && .venv/bin/ruff check . && .venv/bin/lint-imports --no-cache'

# make bench: the scenarios of issue 15 on one trust's worth of data (ADR 0023): its own
# PostgreSQL under var/bench/, scale data made once and reused, results in
# benchmarks/results.md; exits non-zero when a target is missed.
#   make bench                 the trust (6,000 service users; the first build takes minutes)
#   make bench SCALE=small     a quick run on the small trust
#   make bench ARGS="--only pages --requests 20"
SCALE ?= trust
LOAD_USERS ?= 200
LOAD_SECONDS ?= 60
.PHONY: bench
bench:
	SCALE=$(SCALE) ./scripts/bench.sh $(ARGS)

# make load: the load test of issue 15 (scripts/load.sh): the benchmark's database with the
# scale data, served by gunicorn with a real Celery worker and Redis on loopback; Locust
# runs LOAD_USERS people (200) for LOAD_SECONDS (60) and reports p95 and errors.
#   make load                      the trust
#   make load SCALE=small LOAD_USERS=20
.PHONY: load
load:
	SCALE=$(SCALE) LOAD_USERS=$(LOAD_USERS) LOAD_SECONDS=$(LOAD_SECONDS) ./scripts/load.sh
