#!/usr/bin/env bash
# Make sure a local PostgreSQL server answers on 127.0.0.1:5432 for the tests. Idempotent; installs
# postgresql from the OS packages when it is missing and gives the postgres role the password 'postgres'
# so that password and trust authentication both work.
set -euo pipefail

log() { printf 'postgres: %s\n' "$*" >&2; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; exit 1
    fi
}
# pg_isready when it is installed; else any server listening on the port (one this machine did not install,
# e.g. a chroot beside a running server) is the one to use
ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

if ready; then
    log "server answers on 127.0.0.1:5432"
    exit 0
fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing postgresql from the OS packages"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
version="$(ls /etc/postgresql | sort -V | tail -n 1)"
log "starting cluster $version/main"
as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 60); do ready && break; sleep 1; done
ready || { log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
as_root su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
log "server answers on 127.0.0.1:5432"
