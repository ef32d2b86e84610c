# shellcheck shell=bash
# Shared helper, sourced (not executed) by scripts/test.sh and scripts/demo.sh.
#
# Makes sure "$ROOT/.venv" exists and has the project installed with its dev extras:
#   - picks python3.11, else python3 if it is >= 3.11 (installs python3 via apt-get if neither);
#   - if `python -m venv` cannot work because ensurepip is missing (Debian without
#     python3-venv), installs python3-venv / python3.X-venv with apt-get;
#   - runs `pip install -e '.[dev]'` only when pyproject.toml changed since the last install
#     (sha256 kept in .venv/.pyproject.sha256).
#
# Also defines helpers the callers reuse: as_root, apt_get, apt_install_missing.
# Set _VENV_DEFER=1 before sourcing to get only the helpers; then call ensure_venv yourself.

set -euo pipefail

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VENV="$ROOT/.venv"
_APT_UPDATED=0

_venv_log() { printf '==> %s\n' "$*" >&2; }

# Run a command as root: directly if we are root, else through sudo if available.
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        _venv_log "need root to run: $* (not root and no sudo)"
        return 1
    fi
}

# apt-get, non-interactive, waiting for the dpkg lock held by another apt/dpkg process
# instead of failing. Retries while the error is about a lock (the lists lock taken by a
# concurrent `apt-get update` is not covered by DPkg::Lock::Timeout).
apt_get() {
    local out attempt rc
    out="$(mktemp)"
    for attempt in $(seq 1 60); do
        rc=0
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
            -o DPkg::Lock::Timeout=300 "$@" >"$out" 2>&1 || rc=$?
        if [[ $rc -eq 0 ]]; then
            rm -f "$out"
            return 0
        fi
        if grep -qiE 'could not get lock|unable to acquire|is another process using it' "$out" \
            && [[ $attempt -lt 60 ]]; then
            _venv_log "apt is locked by another process; waiting (attempt $attempt)"
            sleep 5
            continue
        fi
        cat "$out" >&2
        rm -f "$out"
        return "$rc"
    done
}

# Install the given Debian packages that `dpkg -s` does not report as installed.
# `apt-get update` runs only when something is missing (and at most once per run).
apt_install_missing() {
    local pkg missing=()
    for pkg in "$@"; do
        if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        _venv_log "missing packages ${missing[*]} and no apt-get to install them"
        return 1
    fi
    _venv_log "installing Debian packages: ${missing[*]}"
    if [[ $_APT_UPDATED -eq 0 ]]; then
        apt_get update
        _APT_UPDATED=1
    fi
    apt_get install --no-install-recommends "${missing[@]}"
}

# Print the python to build the venv with: python3.11, else python3 if >= 3.11.
_pick_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
                2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local py pyver want have
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
        >/dev/null 2>&1; then
        if ! py="$(_pick_python)"; then
            if command -v apt-get >/dev/null 2>&1; then
                apt_install_missing python3 python3-venv
            fi
            py="$(_pick_python)" || {
                _venv_log "Python >= 3.11 is required (tried python3.11, python3)"
                return 1
            }
        fi
        pyver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        # Debian strips ensurepip from the standard library; python3-venv brings it back.
        if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            _venv_log "ensurepip is missing for $py; installing python3-venv"
            apt_install_missing python3-venv "python${pyver}-venv"
        fi
        _venv_log "creating virtualenv in $VENV with $py"
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi

    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    have="$(cat "$VENV/.pyproject.sha256" 2>/dev/null || true)"
    if [[ "$want" != "$have" ]]; then
        # psycopg2 builds from source: it needs pg_config (libpq-dev), a C compiler and
        # the Python headers.
        if ! command -v pg_config >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1 \
            || ! "$VENV/bin/python" -c 'import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)'
        then
            pyver="$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt_install_missing libpq-dev gcc "python${pyver}-dev"
        fi
        _venv_log "installing the project into $VENV (pyproject.toml changed)"
        (cd "$ROOT" && "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev]')
        printf '%s\n' "$want" >"$VENV/.pyproject.sha256"
    fi
}

if [[ "${_VENV_DEFER:-0}" != 1 ]]; then
    ensure_venv
fi
