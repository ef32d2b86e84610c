# Sourced by scripts/bench.sh when BENCH_COMMAND=load (see scripts/load.sh). The database is
# up, migrated and holds the scale data; DATABASE_URL and the production-like settings are
# exported. Everything started here is stopped by the EXIT trap below.
LOAD_USERS="${LOAD_USERS:-200}"
LOAD_SECONDS="${LOAD_SECONDS:-60}"
LOAD_DIR="$BENCH_DIR/load"
mkdir -p "$LOAD_DIR"

apt_install_missing redis-server
if [[ ! -x .venv/bin/locust ]]; then
    log "installing Locust into the virtualenv (only make load needs it)"
    .venv/bin/pip install --quiet "locust>=2.30,<3"
fi

free_port() {
    .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
REDIS_PORT="$(free_port)"
WEB_PORT="$(free_port)"
LOAD_PIDS=()
stop_load() {
    local pid
    for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
trap 'rc=$?; stop_load; cleanup_rc=$rc; trap - EXIT; stop_postgres; log "load finished in ${SECONDS}s (exit status $cleanup_rc)"; exit $cleanup_rc' EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' \
    --appendonly no --dir "$LOAD_DIR" --logfile "$LOAD_DIR/redis.log"
for i in $(seq 1 100); do
    [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" == "PONG" ]] && break
    sleep 0.1
done

# As a deployment, but over plain http on loopback: DEMO relaxes the https-only cookies,
# and accepts the scale data's published authenticator key (never in production).
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
# The web processes share one cache (the things to do kept between pages, ADR 0029).
export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/2"
export DEMO=true
export ALLOWED_HOSTS="127.0.0.1,localhost"
export SITE_URL="http://127.0.0.1:$WEB_PORT"
export DB_CONN_MAX_AGE=600

.venv/bin/python manage.py shell -v 0 -c '
import json
from carecoord.records.models import User, Role
accounts = {}
for role, kind in ((Role.COORDINATOR, "coordinator"), (Role.SERVICE_USER, "person"),
                   (Role.CARER, "carer"), (Role.MANAGER, "manager")):
    accounts[kind] = list(User.objects.filter(
        email__endswith="@scale.example.test", role_grants__role=role, is_active=True)
        .order_by("pk").values_list("email", flat=True))
print(json.dumps(accounts))
' >"$LOAD_DIR/accounts.json"

log "starting a Celery worker and gunicorn on 127.0.0.1:$WEB_PORT"
.venv/bin/celery -A carecoord worker --pool=solo --without-gossip --without-mingle \
    -l warning >"$LOAD_DIR/worker.log" 2>&1 &
LOAD_PIDS+=($!)
.venv/bin/gunicorn carecoord.wsgi:application --bind "127.0.0.1:$WEB_PORT" \
    --workers "${LOAD_WEB_WORKERS:-3}" --threads "${LOAD_WEB_THREADS:-4}" --timeout 60 \
    --access-logfile - >"$LOAD_DIR/gunicorn.log" 2>&1 &
LOAD_PIDS+=($!)
for i in $(seq 1 300); do
    .venv/bin/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$WEB_PORT/sign-in/', timeout=5)" 2>/dev/null && break
    if [[ $i -eq 300 ]]; then tail -50 "$LOAD_DIR/gunicorn.log" >&2; exit 1; fi
    sleep 0.2
done

# People arrive LOAD_SPAWN_RATE a second and sign in; the measured minute starts once the
# last has arrived and everyone has signed in (the locustfile then stops the run after
# LOAD_SECONDS). RUN_SECONDS only bounds a run whose sign-ins never finish.
SPAWN_RATE="${LOAD_SPAWN_RATE:-10}"
RUN_SECONDS=$(( LOAD_SECONDS + (LOAD_USERS + SPAWN_RATE - 1) / SPAWN_RATE + 600 ))
log "Locust: $LOAD_USERS people arriving $SPAWN_RATE a second, then ${LOAD_SECONDS}s measured once all have signed in"
LOAD_SECONDS="$LOAD_SECONDS" LOAD_ACCOUNTS="$LOAD_DIR/accounts.json" LOAD_RESULT="$LOAD_DIR/result.json" \
    .venv/bin/locust -f benchmarks/locustfile.py --headless -u "$LOAD_USERS" \
    -r "$SPAWN_RATE" -t "${RUN_SECONDS}s" --host "http://127.0.0.1:$WEB_PORT" \
    --only-summary --stop-timeout 15 >"$LOAD_DIR/locust.log" 2>&1 || true
tail -40 "$LOAD_DIR/locust.log"
.venv/bin/python - "$LOAD_DIR/result.json" <<'PY'
import json
import sys

result = json.load(open(sys.argv[1]))
print()
print(f"requests: {result['requests']:,} ({result['sign_in_requests']:,} of them signing in; "
      f"{result['steady_requests']:,} pages in the {result['measured_s']} s measured once "
      f"everyone had signed in, {result['everyone_signed_in_after_s']} s after the first "
      "arrived)")
print(f"errors: {result['errors']:,}")
slices = result.get("by_slice") or []
if slices:
    print("the measured time, slice by slice (pages, p95 / median ms): " + "; ".join(
        f"{s['from_s']}-{s['to_s']} s: {s['requests']}, {s['p95_ms']} / {s['median_ms']}"
        for s in slices))
print(f"p95 of the pages (signing in apart): {result['p95_ms']:.0f} ms "
      f"(median {result['median_ms']:.0f} ms); signing in: p95 {result['sign_in_p95_ms']:.0f} ms")
ok = result["errors"] == 0 and result["p95_ms"] <= 300 and result["steady_requests"] > 0
print("target (no errors, p95 <= 300 ms):", "met" if ok else "MISSED")
sys.exit(0 if ok else 1)
PY
