#!/usr/bin/env bash
# The test command (also what CI runs through .ci/run):
#   1. installs missing Debian packages (PostgreSQL, Redis, Chromium, poppler, Pango, fonts);
#   2. sets up the virtualenv (scripts/_venv.sh);
#   3. lints (ruff with its banned-API rule, import-linter's architecture contracts), then
#      the supply-chain checks (bandit; pip-audit when PyPI's advisory data answers);
#   4. starts a throwaway PostgreSQL cluster and Redis server on free ports under a temp dir;
#   5. runs pytest against them (arguments are passed through to pytest);
#   6. always stops both servers and removes the temp dir (trap on EXIT, also on Ctrl-C).
#
#   ./scripts/test.sh                          # everything
#   ./scripts/test.sh tests/test_foo.py -x     # a subset
#
# Exported for the tests: DATABASE_URL, CELERY_BROKER_URL, CELERY_RESULT_BACKEND,
# DJANGO_ALLOW_ASYNC_UNSAFE, TEST_ARTIFACTS_DIR, REDIS_TEST_PORT, REDIS_SERVER_PIDFILE,
# REDIS_SERVER_CMD (to restart Redis after a test stops it: shlex.split() it and run it),
# PG_RESTART_CMD (to restart PostgreSQL under a test, likewise).
set -euo pipefail

SECONDS=0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive

log() { printf '==> %s\n' "$*" >&2; }

# --- 1. Debian packages, 2. virtualenv ----------------------------------------------------
_VENV_DEFER=1
# shellcheck source=scripts/_venv.sh
source "$ROOT/scripts/_venv.sh"
apt_install_missing postgresql libpq-dev redis-server chromium poppler-utils \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
ensure_venv

# --- 2b. axe-core from npm, for the browser tests' accessibility checks ----------------------
# tests/browser/package.json pins it and package-lock.json locks it; `npm ci` runs only when
# node_modules is missing or the lock changed since (its sha256 kept beside the modules).
BROWSER_JS="$ROOT/tests/browser"
lock_sum="$(sha256sum "$BROWSER_JS/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$BROWSER_JS/node_modules/axe-core/axe.min.js" ]] \
    || [[ "$(cat "$BROWSER_JS/node_modules/.lock.sha256" 2>/dev/null || true)" != "$lock_sum" ]]; then
    command -v npm >/dev/null 2>&1 || apt_install_missing nodejs npm || true
    log "npm ci --prefix tests/browser (axe-core)"
    # Without npm or its registry the rest of the suite still runs; the axe checks then
    # fail, saying axe.min.js is missing (tests/browser/axe.py), rather than skip.
    if npm ci --prefix "$BROWSER_JS" --no-audit --no-fund >&2; then
        printf '%s\n' "$lock_sum" >"$BROWSER_JS/node_modules/.lock.sha256"
    else
        log "npm ci failed: the browser tests' accessibility checks will fail"
    fi
fi

# --- cleanup, registered before anything is started ---------------------------------------
TMP_DIR=""
PG_BIN=""
PG_DATA=""
PG_STARTED=0
REDIS_PORT=""
REDIS_PIDFILE=""
ARTIFACTS_OUT="$ROOT/test-artifacts"

run_pg() {
    # initdb/postgres refuse to run as root: use the postgres system user then.
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_redis() {
    [[ -n "$REDIS_PORT" ]] || return 0
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    if [[ -n "$REDIS_PIDFILE" && -s "$REDIS_PIDFILE" ]]; then
        local pid i
        pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for i in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
}

stop_postgres() {
    [[ $PG_STARTED -eq 1 ]] || return 0
    if ! run_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
        local pid
        pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
        [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    stop_redis
    stop_postgres
    if [[ -n "$TMP_DIR" && -d "$TMP_DIR" ]]; then
        if [[ -d "$TMP_DIR/artifacts" ]] && [[ -n "$(ls -A "$TMP_DIR/artifacts" 2>/dev/null)" ]]; then
            rm -rf "$ARTIFACTS_OUT"
            cp -r "$TMP_DIR/artifacts" "$ARTIFACTS_OUT"
            log "test artifacts (screenshots etc.) saved in $ARTIFACTS_OUT"
        fi
        rm -rf "$TMP_DIR"
    fi
    log "finished in ${SECONDS}s (exit status $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 3. lint ------------------------------------------------------------------------------
log "ruff check"
.venv/bin/ruff check .
log "lint-imports (architecture contracts in pyproject.toml)"
.venv/bin/lint-imports --no-cache

# --- 3b. supply chain ---------------------------------------------------------------------
# bandit: fails on any finding of medium severity or higher (-ll). What it skips (tests,
# migrations) is [tool.bandit] in pyproject.toml; a reviewed exception is `# nosec <id>`
# on its line, with the reason beside it.
log "bandit -c pyproject.toml -r . -ll (security lint)"
.venv/bin/bandit -c pyproject.toml -r . -ll -q
# pip-audit: known vulnerabilities in the installed packages, from PyPI's advisory data.
# Without a network (or where the registry serves no advisory data) it cannot run: say so
# and go on. SKIP_PIP_AUDIT=1 skips it on purpose.
audit_reachable() {
    .venv/bin/python - <<'PY'
import json
import sys
import urllib.request
from importlib.metadata import version

url = f"https://pypi.org/pypi/django/{version('django')}/json"
try:
    with urllib.request.urlopen(url, timeout=5) as response:  # nosec B310: fixed https URL
        sys.exit(0 if "vulnerabilities" in json.load(response) else 1)
except Exception:
    sys.exit(1)
PY
}
if [[ "${SKIP_PIP_AUDIT:-0}" == 1 ]]; then
    log "pip-audit: SKIPPED (SKIP_PIP_AUDIT=1)"
elif audit_reachable; then
    log "pip-audit (known vulnerabilities in the installed packages)"
    .venv/bin/pip-audit --progress-spinner off --skip-editable
else
    log "pip-audit: SKIPPED - PyPI's advisory data could not be reached (no network?)"
fi

# --- 4. throwaway PostgreSQL and Redis ----------------------------------------------------
TMP_DIR="$(mktemp -d /tmp/carecoord-test.XXXXXX)"
chmod 755 "$TMP_DIR"
rm -rf "$ARTIFACTS_OUT"
mkdir -p "$TMP_DIR/artifacts"

read -r PG_PORT REDIS_PORT < <(.venv/bin/python - <<'PY'
import socket

socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
if [[ -z "${PG_PORT:-}" || -z "${REDIS_PORT:-}" ]]; then
    log "could not pick free ports"
    exit 1
fi

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
    log "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
    exit 1
fi
PG_DIR="$TMP_DIR/pg"
PG_DATA="$PG_DIR/data"
mkdir -p "$PG_DIR/sock"
if [[ "$(id -u)" -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
        if getent group postgres >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin -g postgres postgres
        else
            useradd --system --no-create-home --shell /usr/sbin/nologin --user-group postgres
        fi
    fi
    chown -R postgres: "$PG_DIR"
fi

log "starting PostgreSQL ($(basename "$(dirname "$PG_BIN")")) on 127.0.0.1:$PG_PORT"
run_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres --encoding=UTF8 \
    --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
PG_STARTED=1
run_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 30 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || { cat "$PG_DIR/postgres.log" >&2; exit 1; }
for i in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    if [[ $i -eq 100 ]]; then
        cat "$PG_DIR/postgres.log" >&2
        log "PostgreSQL did not become ready"
        exit 1
    fi
    sleep 0.1
done
run_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres carecoord

REDIS_DIR="$TMP_DIR/redis"
mkdir -p "$REDIS_DIR"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_CMD=("$(command -v redis-server)" --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes
    --pidfile "$REDIS_PIDFILE" --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log"
    --save '' --appendonly no)
log "starting Redis on 127.0.0.1:$REDIS_PORT"
"${REDIS_CMD[@]}"
for i in $(seq 1 100); do
    [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" == "PONG" ]] && break
    if [[ $i -eq 100 ]]; then
        cat "$REDIS_DIR/redis.log" >&2 || true
        log "Redis did not answer PING"
        exit 1
    fi
    sleep 0.1
done

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/carecoord"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CELERY_RESULT_BACKEND="redis://127.0.0.1:$REDIS_PORT/1"
export DJANGO_ALLOW_ASYNC_UNSAFE=true
# The PostgreSQL-only tests (trigger, row locks, races) must run, not skip: tests/conftest.py
export TEST_REQUIRES_POSTGRESQL=1
# A page that queries a sensitive model fails its test (carecoord/scoping).
export ACCESS_SCOPE_GUARD=raise
export TEST_ARTIFACTS_DIR="$TMP_DIR/artifacts"
export REDIS_TEST_PORT="$REDIS_PORT"
export REDIS_SERVER_PIDFILE="$REDIS_PIDFILE"
REDIS_SERVER_CMD="$(printf '%q ' "${REDIS_CMD[@]}")"
export REDIS_SERVER_CMD="${REDIS_SERVER_CMD% }"
# To restart PostgreSQL under a running test (tests/test_faults.py): shlex.split() it.
PG_RESTART=("$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -m fast -w -t 60 restart)
[[ "$(id -u)" -eq 0 ]] && PG_RESTART=(runuser -u postgres -- "${PG_RESTART[@]}")
PG_RESTART_CMD="$(printf '%q ' "${PG_RESTART[@]}")"
export PG_RESTART_CMD="${PG_RESTART_CMD% }"

# --- 5. pytest ----------------------------------------------------------------------------
log "pytest $*"
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    log "pytest collected no tests: treating that as a failure"
fi
exit "$status"
