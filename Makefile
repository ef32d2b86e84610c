# Entry points; the scripts do the work (see scripts/).
#   make run                 start the demo at http://127.0.0.1:8000/ (PORT=8080 make run)
#   make test                lint + full test suite against throwaway PostgreSQL/Redis
#   make test ARGS="-k foo"  pass arguments through to pytest
#   make lint                ruff check (+ scripts/lint_access.py when present)

ARGS ?=

.PHONY: run test lint

run:
	./scripts/demo.sh

test:
	./scripts/test.sh $(ARGS)

lint:
	bash -c 'source scripts/_venv.sh && .venv/bin/ruff check . && if [ -f scripts/lint_access.py ]; then .venv/bin/python scripts/lint_access.py; fi'
