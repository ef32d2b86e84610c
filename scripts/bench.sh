#!/usr/bin/env bash
# make bench: measure the scenarios of issue 15 on one trust's worth of data (ADR 0023).
#   1. sets up the virtualenv (scripts/_venv.sh);
#   2. starts a PostgreSQL cluster of its own (as scripts/test.sh does), kept under
#      var/bench/<scale>/ so that the scale data is made once and reused: new migrations are
#      applied to it in place, a changed or removed migration makes it again;
#   3. migrates, and runs generate_scale_data if the data is not there;
#   4. runs benchmarks/run.py, which writes benchmarks/results.md and exits non-zero when
#      a target is missed;
#   5. always stops the cluster (trap on EXIT).
#
#   ./scripts/bench.sh              # the trust: 6,000 service users (builds in minutes)
#   SCALE=small ./scripts/bench.sh  # a quick run on the small trust
#   SCALE=medium ./scripts/bench.sh
# Extra arguments go to benchmarks/run.py (e.g. --requests 20 --only pages).
#   BENCH_COMMAND=hold ./scripts/bench.sh   # keep the database up for profiling by hand
set -euo pipefail

SECONDS=0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCALE="${SCALE:-trust}"
case "$SCALE" in trust|medium|small) ;; *) echo "SCALE must be trust, medium or small" >&2; exit 2;; esac

log() { printf '==> %s\n' "$*" >&2; }

_VENV_DEFER=1
# shellcheck source=scripts/_venv.sh
source "$ROOT/scripts/_venv.sh"
apt_install_missing postgresql libpq-dev libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 fonts-dejavu-core
ensure_venv

BENCH_DIR="$ROOT/var/bench/$SCALE"
PG_DIR="$BENCH_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_STARTED=0
PG_PID=""  # the postmaster this run started
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
    log "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
    exit 1
fi

run_pg() {
    # initdb/postgres refuse to run as root: use the postgres system user then.
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_postgres() {
    [[ $PG_STARTED -eq 1 ]] || return 0
    # Only the cluster this run started: another run may have started its own since.
    if [[ -n "$PG_PID" && "$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)" != "$PG_PID" ]]; then
        return 0
    fi
    if ! run_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1; then
        local pid
        pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
        [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    # The hold's sleep, which would otherwise outlive this script by up to an hour.
    jobs -p | xargs -r kill 2>/dev/null
    stop_postgres
    log "bench finished in ${SECONDS}s (exit status $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PG_PORT="$(.venv/bin/python - <<'PY'
import socket

s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
)"

mkdir -p "$PG_DIR/sock"
# Every parent of the cluster must be traversable by the postgres user.
chmod 755 "$ROOT/var" "$ROOT/var/bench" "$BENCH_DIR" 2>/dev/null || true
if [[ "$(id -u)" -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin --user-group postgres
    fi
    chown -R postgres: "$PG_DIR"
fi

# The migrations the data was made with, one line a file. Only new migrations since then:
# the data is migrated in place, as a deployed database would be. A migration changed or
# removed: the data is made again.
MIGRATIONS="$(find . -path ./.venv -prune -o -path ./var -prune -o -path '*/migrations/*.py' -print \
    | sort | xargs sha256sum)"
if [[ -d "$PG_DATA" ]]; then
    if [[ ! -s "$BENCH_DIR/migrations" ]] \
        || [[ -n "$(comm -23 <(sort "$BENCH_DIR/migrations") <(sort <<<"$MIGRATIONS"))" ]]; then
        log "the migrations changed since the scale data was made: making it again"
        rm -rf "$PG_DATA" "$BENCH_DIR/migrations"
    fi
fi
if [[ ! -d "$PG_DATA" ]]; then
    run_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
    rm -f "$BENCH_DIR/migrations"
fi

if run_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    # Another run (a bench, a hold, a load test) is using this data: leave it alone.
    log "PostgreSQL is already running on $PG_DATA (another make bench, hold or load?); stop it first"
    exit 1
fi
log "starting PostgreSQL ($(basename "$(dirname "$PG_BIN")")) on 127.0.0.1:$PG_PORT, data in $PG_DATA"
PG_STARTED=1
# Durable settings as in production (fsync on): the data is kept between runs. Memory as
# a trust's database server is set up: a quarter of the RAM in shared buffers (PostgreSQL's
# advice for a database server; between 256 MB and 8 GB here), and the planner told the
# operating system caches about half.
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
SHARED_MB=$(( MEM_MB / 4 )); (( SHARED_MB < 256 )) && SHARED_MB=256; (( SHARED_MB > 8192 )) && SHARED_MB=8192
run_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 120 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR/sock -c shared_buffers=${SHARED_MB}MB -c effective_cache_size=$(( MEM_MB / 2 ))MB -c max_wal_size=4GB" \
    >/dev/null || { cat "$PG_DIR/postgres.log" >&2; exit 1; }
PG_PID="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
for i in $(seq 1 300); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    if [[ $i -eq 300 ]]; then
        cat "$PG_DIR/postgres.log" >&2
        log "PostgreSQL did not become ready"
        exit 1
    fi
    sleep 0.1
done
run_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'carecoord'" | grep -q 1 \
    || run_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres carecoord

# As in a deployment: DEBUG off, the scope guard logging, no broker (tasks run in the
# request: what main does with no broker configured).
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/carecoord"
export DEBUG=false
export SECRET_KEY="bench-only-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS="testserver,localhost"
export SECURE_SSL_REDIRECT=false
export ACCESS_SCOPE_GUARD=log
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export PRIVATE_FILES_ROOT="$BENCH_DIR/private"
export LOG_LEVEL=WARNING

.venv/bin/python manage.py migrate --noinput -v 0
# DEBUG off serves static files through the manifest, as in a deployment.
.venv/bin/python manage.py collectstatic --noinput -v 0
if [[ ! -s "$BENCH_DIR/migrations" ]]; then
    log "generating the $SCALE scale data"
    .venv/bin/python manage.py generate_scale_data --scale "$SCALE" --i-know-this-is-not-production
    run_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "VACUUM ANALYZE" carecoord
fi
# Recorded after every migrate, so that the next run knows which migrations the data has.
echo "$MIGRATIONS" >"$BENCH_DIR/migrations"

if [[ "${BENCH_COMMAND:-bench}" == "hold" ]]; then
    # For profiling by hand: keep the database up and write its settings to a file that a
    # shell can source (`. var/bench/trust/env`); stops with Ctrl-C or kill.
    export -p | grep -E ' (DATABASE_URL|DEBUG|SECRET_KEY|ALLOWED_HOSTS|SECURE_SSL_REDIRECT|ACCESS_SCOPE_GUARD|EMAIL_BACKEND|PRIVATE_FILES_ROOT|LOG_LEVEL)=' \
        >"$BENCH_DIR/env"
    log "holding PostgreSQL on port $PG_PORT; settings in $BENCH_DIR/env"
    # In the background and waited for: a signal's trap runs at once, not after the sleep
    # (a late clean-up would stop the next run's PostgreSQL on the same data).
    while true; do sleep 3600 & wait $!; done
fi
if [[ "${BENCH_COMMAND:-bench}" == "load" ]]; then
    # make load (scripts/load.sh): the same database, served as in production.
    # shellcheck source=scripts/_load.sh
    source "$ROOT/scripts/_load.sh"
    exit 0
fi

log "benchmarks/run.py --scale $SCALE $*"
.venv/bin/python benchmarks/run.py --scale "$SCALE" "$@"
