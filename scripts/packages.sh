#!/usr/bin/env bash
# Make sure the named Debian packages are installed: installs those that are missing (one `apt-get update`,
# then one `apt-get install`), as root or through sudo. Idempotent: with everything installed it changes
# nothing and needs neither root nor the network.
#   scripts/packages.sh curl libatomic1 chromium
set -euo pipefail

log() { printf 'packages: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; exit 1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for package in "$@"; do
    installed "$package" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
log "installing ${missing[*]} from the OS packages"
as_root apt-get update -q >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
