#!/usr/bin/env bash
# Make sure .venv exists with the project and its development tools installed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'python: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; exit 1
    fi
}

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    log "installing python3 from the OS packages"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-dev
    PYTHON=python3
fi
# one installer at a time: two scripts (scripts/run and scripts/test, or two scripts/run) starting together in
# one checkout would otherwise pip-install into the same .venv at once and break it
exec 9>.venv.lock
flock 9
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        log "installing python3-venv from the OS packages"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
        rm -rf .venv
        "$PYTHON" -m venv .venv
    fi
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    log "installing the project and its tools into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
log "ready: $(.venv/bin/python --version)"
