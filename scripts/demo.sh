#!/usr/bin/env bash
# Start the product for a new user: set up the virtualenv, create/upgrade the local SQLite
# database, load the demo data (idempotent; prints the demo logins) and run the dev server.
# No DATABASE_URL or CELERY_BROKER_URL is set here: the embedded defaults are used (SQLite
# file in the project, Celery tasks run in-process). If you set them yourself, they are
# respected.
#
#   ./scripts/demo.sh                 # http://127.0.0.1:8000/
#   PORT=8080 ./scripts/demo.sh       # another port
#   HOST=0.0.0.0 ./scripts/demo.sh    # listen on all interfaces
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/_venv.sh
source "$ROOT/scripts/_venv.sh"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo

BROWSE_HOST="$HOST"
if [[ "$BROWSE_HOST" == "0.0.0.0" ]]; then
    BROWSE_HOST="127.0.0.1"
fi
echo
echo "============================================================"
echo "  Open http://$BROWSE_HOST:$PORT/ in your browser"
echo "  (press Ctrl-C to stop the server)"
echo "============================================================"
echo
exec .venv/bin/python manage.py runserver "$HOST:$PORT"
