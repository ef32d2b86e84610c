#!/usr/bin/env bash
# Start the product for a new user: set up the virtualenv, create/upgrade the local SQLite
# database, load the demo data (idempotent; prints the demo logins), then run the web
# server and a Celery worker beside it. Ctrl-C stops both.
#
# The demo runs as people will meet the product (ADR 0021):
#   - DEBUG off, so every unknown address shows the product's own "Page not found" page,
#     never Django's technical pages; DEMO=true relaxes only what plain http on this
#     machine needs (see carecoord/settings.py). Static files come through WhiteNoise.
#   - a real background worker: PDFs are made while the page stays usable. Its broker is
#     kombu's filesystem transport (messages as files under var/celery/): nothing to
#     install, no server. The worker also runs the periodic jobs (beat): review reminders,
#     re-sending queued files, deleting old ones.
#   - a secret key made once for this copy and kept in var/demo-secret-key.
# If you set DATABASE_URL or CELERY_BROKER_URL yourself, they are respected.
#
#   ./scripts/demo.sh                 # http://127.0.0.1:8000/
#   PORT=8080 ./scripts/demo.sh       # another port
#   HOST=0.0.0.0 ./scripts/demo.sh    # listen on all interfaces (add ALLOWED_HOSTS=<name>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/_venv.sh
source "$ROOT/scripts/_venv.sh"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
BROWSE_HOST="$HOST"
if [[ "$BROWSE_HOST" == "0.0.0.0" ]]; then
    BROWSE_HOST="127.0.0.1"
fi

mkdir -p var/celery
chmod 700 var
if [[ ! -s var/demo-secret-key ]]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' \
        > var/demo-secret-key)
fi
export SECRET_KEY="${SECRET_KEY:-$(cat var/demo-secret-key)}"
export DEMO=true
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-filesystem://}"
# Emails caused by a page use the address that page was reached at; this is for the few
# sent with no page behind them (review reminders).
export SITE_URL="${SITE_URL:-http://$BROWSE_HOST:$PORT}"

# The demo data refuses to load unless DEBUG is on (it publishes passwords and the staff
# accounts' authenticator key): only these two commands run with it.
DEBUG=true .venv/bin/python manage.py migrate --noinput
DEBUG=true .venv/bin/python manage.py seed_demo

export DEBUG=false

WORKER_PID=""
stop_worker() {
    if [[ -n "$WORKER_PID" ]] && kill -0 "$WORKER_PID" 2>/dev/null; then
        echo "Stopping the background worker..."
        kill -TERM "$WORKER_PID" 2>/dev/null || true
        # A warm shutdown finishes the file being made (and stops the embedded beat
        # process); give it a while, then stop it and its children outright.
        for _ in $(seq 1 100); do
            kill -0 "$WORKER_PID" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$WORKER_PID" 2>/dev/null; then
            # shellcheck disable=SC2046
            kill -KILL $(pgrep -P "$WORKER_PID" 2>/dev/null) "$WORKER_PID" 2>/dev/null || true
        fi
        wait "$WORKER_PID" 2>/dev/null || true
    fi
    WORKER_PID=""
}
trap stop_worker EXIT
trap 'stop_worker; exit 130' INT
trap 'stop_worker; exit 143' TERM

# One process (solo pool: SQLite likes few writers), with the periodic jobs inside it.
# Its log goes to var/celery/worker.log; the emails it sends are printed here.
.venv/bin/celery --quiet -A carecoord worker --pool=solo --concurrency=1 --beat \
    --schedule var/celery/beat-schedule --loglevel=INFO --logfile var/celery/worker.log \
    --without-mingle --without-gossip &
WORKER_PID=$!

echo
echo "============================================================"
echo "  Open http://$BROWSE_HOST:$PORT/ in your browser"
echo "  (press Ctrl-C to stop the server and the background worker)"
echo "  Background worker log: var/celery/worker.log"
echo "============================================================"
echo
# Not exec: this shell stays to stop the worker when the server stops.
.venv/bin/python manage.py runserver "$HOST:$PORT" &
SERVER_PID=$!
trap 'kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; stop_worker; exit 130' INT
trap 'kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; stop_worker; exit 143' TERM
set +e
wait "$SERVER_PID"
status=$?
set -e
stop_worker
exit "$status"
