# Entry points; the scripts do the work (see scripts/).
#   make run                 start the demo at http://127.0.0.1:8000/ (PORT=8080 make run)
#   make test                lint + full test suite against throwaway PostgreSQL/Redis
#   make test ARGS="-k foo"  pass arguments through to pytest
#   make lint                ruff check and import-linter's architecture contracts

ARGS ?=

.PHONY: run test lint

run:
	./scripts/demo.sh

test:
	./scripts/test.sh $(ARGS)

lint:
	bash -c 'source scripts/_venv.sh && ensure_venv && .venv/bin/ruff check . && .venv/bin/lint-imports --no-cache'

# make bench: benchmark the managers' access-events CSV: 100k generated AccessEvents on the
# test command's throwaway PostgreSQL (it exists only inside scripts/test.sh, hence a pytest
# file under benchmarks/, outside the normal suite); prints time and peak memory (tracemalloc).
.PHONY: bench
bench:
	./scripts/test.sh benchmarks/bench_audit_csv.py -s -p no:randomly $(ARGS)
