#!/usr/bin/env bash
# make load: the load test of issue 15. Starts the benchmark's own PostgreSQL with the scale
# data (scripts/bench.sh, made once and kept under var/bench/), then a real Redis, a real
# Celery worker and gunicorn on loopback, and runs Locust headless against them:
# LOAD_USERS simulated people (default 200) for LOAD_SECONDS (default 60), a realistic mix
# with think times (benchmarks/locustfile.py). Prints p95 and errors and exits non-zero
# when there are errors or the p95 of the pages is over 300 ms.
#
#   ./scripts/load.sh                         # the trust
#   SCALE=small LOAD_USERS=20 ./scripts/load.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_COMMAND=load exec "$ROOT/scripts/bench.sh" "$@"
