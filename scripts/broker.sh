#!/usr/bin/env bash
# Make sure a local RabbitMQ broker with the management and shovel plugins runs.
#
# Uses a broker whose management API already answers with the shovel plugin as it is. Otherwise installs
# rabbitmq-server from the OS packages when it is missing, starts the default node when it is not running (no
# systemd needed), raises its file handle limit, enables the plugins the gateway uses and waits until the
# management API answers. Idempotent and safe while the broker runs; it never stops a running broker.
#
# Environment: GATEWAY_MANAGEMENT_URL (default http://127.0.0.1:15672), GATEWAY_BROKER_USER / _PASSWORD
# (default guest/guest), BROKER_WAIT_SECONDS (default 90).
set -euo pipefail

MANAGEMENT_URL="${GATEWAY_MANAGEMENT_URL:-http://127.0.0.1:15672}"
USER_NAME="${GATEWAY_BROKER_USER:-guest}"
USER_PASSWORD="${GATEWAY_BROKER_PASSWORD:-guest}"
WAIT_SECONDS="${BROKER_WAIT_SECONDS:-90}"
SHOWN_URL="$(sed -E 's#//[^/@]*@#//#' <<<"$MANAGEMENT_URL")"  # without a user and password in it
PLUGINS=(rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management)

log() { printf 'broker: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; exit 1
    fi
}

install_broker() {
    if command -v rabbitmqctl >/dev/null 2>&1; then
        return
    fi
    log "installing rabbitmq-server from the OS packages"
    as_root apt-get update -q
    # The package's own service start may be blocked (no systemd); we start the node ourselves below.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server || \
        command -v rabbitmqctl >/dev/null 2>&1 || { log "installing rabbitmq-server failed"; exit 1; }
}

broker_running() {
    # `ping` only asks the node whether it runs; `status` also gathers the memory of every process, which a
    # busy broker with many vhosts can take minutes to answer (seen here: over 30 minutes)
    as_root timeout 60 rabbitmqctl -q ping >/dev/null 2>&1
}

start_broker() {
    if broker_running; then
        log "broker already running"
        return
    fi
    log "starting the broker"
    # quorum queues and vhosts hold many file handles; Debian's default of 1024 makes vhost changes stall
    ulimit -n 65536 2>/dev/null || true
    as_root rabbitmq-server -detached
    # await_startup fails at once while the detached node has not registered yet: retry until the deadline
    local deadline=$((SECONDS + WAIT_SECONDS))
    until as_root rabbitmqctl -q await_startup --timeout 10 >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "the broker did not start within ${WAIT_SECONDS}s (see /var/log/rabbitmq)"
            exit 1
        fi
        sleep 1
    done
}

enable_plugins() {
    local enabled
    enabled="$(as_root timeout 120 rabbitmq-plugins list -e -m 2>/dev/null || true)"
    local missing=()
    for plugin in "${PLUGINS[@]}"; do
        grep -qx "$plugin" <<<"$enabled" || missing+=("$plugin")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "plugins already enabled"
        return
    fi
    log "enabling ${missing[*]}"
    as_root rabbitmq-plugins enable "${missing[@]}" >/dev/null
}

# GET a management API path with the broker user (curl when installed, else Python); the URL may carry user
# and password itself (as GATEWAY_MANAGEMENT_URL of the gateway does)
api_answers() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null -u "$USER_NAME:$USER_PASSWORD" "$MANAGEMENT_URL$1" 2>/dev/null
    else
        python3 - "$MANAGEMENT_URL$1" "$USER_NAME" "$USER_PASSWORD" <<'PY' 2>/dev/null
import base64, sys, urllib.parse, urllib.request
url, user, password = sys.argv[1:4]
parts = urllib.parse.urlsplit(url)
user, password = parts.username or user, parts.password or password
url = urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
token = base64.b64encode(f"{user}:{password}".encode()).decode()
request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
urllib.request.urlopen(request, timeout=5).read()
PY
    fi
}

management_answers() { api_answers /api/overview; }
shovel_answers() { api_answers /api/shovels; }

wait_for_management() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until management_answers; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "management API at $SHOWN_URL did not answer within ${WAIT_SECONDS}s"
            exit 1
        fi
        sleep 1
    done
    log "ready: management API answers at $SHOWN_URL"
}

raise_handle_limit() {
    # A broker started with a low open-files limit (about 930 handles) deadlocks vhost deletions once
    # a few hundred quorum queues exist; raise the broker's own handle budget while it runs.
    local limit
    limit="$(as_root timeout 60 rabbitmqctl eval 'file_handle_cache:get_limit().' 2>/dev/null | tr -dc '0-9')"
    if [ -n "$limit" ] && [ "$limit" -lt 4000 ]; then
        log "raising the broker's file handle limit from $limit to 4000"
        as_root rabbitmqctl eval 'file_handle_cache:set_limit(4000).' >/dev/null
    fi
}


# a broker already answers with the management and shovel plugins (this machine's, another container's, or one
# beside a chroot): use it as it is, without rabbitmqctl (whose CLI node can wait minutes when several run at
# once), and never start a second one
if management_answers && shovel_answers; then
    log "ready: a running broker answers at $SHOWN_URL with the management and shovel plugins"
    exit 0
fi
if ! command -v rabbitmqctl >/dev/null 2>&1 && management_answers; then
    log "the broker at $SHOWN_URL has no shovel plugin and this machine cannot enable it"
    exit 1
fi
install_broker
start_broker
raise_handle_limit
enable_plugins
wait_for_management
