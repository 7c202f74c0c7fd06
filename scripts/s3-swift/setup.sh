#!/usr/bin/env bash
# Start a local OpenStack Swift with the s3api middleware: an S3 endpoint that really
# verifies SigV4 (see README.md). Idempotent: installs only missing packages, reuses a
# running server. Usage: setup.sh [DIR]   (DIR defaults to $S3_SWIFT_DIR or ./.s3-swift)
set -euo pipefail

D="${1:-${S3_SWIFT_DIR:-$PWD/.s3-swift}}"
WAIT_SECONDS="${S3_SWIFT_WAIT_SECONDS:-60}"
REGION="ru-central1"
PROXY_PORT=8080
MEMCACHED_PORT=11211
PACKAGES=(swift swift-proxy swift-account swift-container swift-object python3-swift memcached)
# name:port of each storage server; the ports are fixed by the rings below.
STORAGE_SERVERS=(account:6202 container:6201 object:6200)

log() { printf '[s3-swift] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || die "packages missing (${missing[*]}) and not root: install them first"
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update >&2
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2
}

write_rings() {
  local entry name port
  for entry in "${STORAGE_SERVERS[@]}"; do
    name="${entry%%:*}" port="${entry##*:}"
    [[ -f "$D/etc/$name.ring.gz" ]] && continue
    rm -f "$D/etc/$name.builder"
    swift-ring-builder "$D/etc/$name.builder" create 10 1 1 >/dev/null
    swift-ring-builder "$D/etc/$name.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null
    swift-ring-builder "$D/etc/$name.builder" rebalance >/dev/null
  done
}

write_configs() {
  local user entry name port
  user="$(id -un)"
  cat >"$D/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = s3-swift-dev-suffix
swift_hash_path_prefix = s3-swift-dev-prefix

[storage-policy:0]
name = Policy-0
default = yes
CONF
  for entry in "${STORAGE_SERVERS[@]}"; do
    name="${entry%%:*}" port="${entry##*:}"
    cat >"$D/etc/$name-server.conf" <<CONF
[DEFAULT]
devices = $D/srv
mount_check = false
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $user
swift_dir = $D/etc
recon_cache_path = $D/cache

[pipeline:main]
pipeline = $name-server

[app:$name-server]
use = egg:swift#$name
CONF
  done
  cat >"$D/etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
workers = 1
user = $user
swift_dir = $D/etc

[pipeline:main]
pipeline = catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:s3api]
use = egg:swift#s3api
location = $REGION
s3_acl = false
check_bucket_owner = false

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
CONF
}

# start NAME COMMAND...: runs COMMAND in its own session, logs to $D/log/NAME.log.
start() {
  local name="$1"
  shift
  if pid_alive "$D/run/$name.pid"; then
    log "$name already running (pid $(cat "$D/run/$name.pid"))"
    return
  fi
  setsid "$@" </dev/null >"$D/log/$name.log" 2>&1 &
  echo $! >"$D/run/$name.pid"
}

start_servers() {
  if ! pid_alive "$D/run/memcached.pid" && port_open "$MEMCACHED_PORT"; then
    log "reusing the memcached already listening on $MEMCACHED_PORT"
  else
    local as_user=()
    [[ "$(id -u)" -eq 0 ]] && as_user=(-u memcache)
    start memcached memcached "${as_user[@]}" -l 127.0.0.1 -p "$MEMCACHED_PORT"
  fi
  if ! pid_alive "$D/run/proxy.pid" && port_open "$PROXY_PORT"; then
    die "port $PROXY_PORT is taken by another process; stop it, or export S3_ENDPOINT to use it"
  fi
  local entry name
  for entry in "${STORAGE_SERVERS[@]}"; do
    name="${entry%%:*}"
    start "$name" "swift-$name-server" "$D/etc/$name-server.conf" --verbose
  done
  start proxy swift-proxy-server "$D/etc/proxy-server.conf" --verbose
}

proxy_answers() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$PROXY_PORT/info" 2>/dev/null
}

wait_until_ready() {
  local deadline=$((SECONDS + WAIT_SECONDS)) entry name pidfile ready
  while ((SECONDS < deadline)); do
    for pidfile in "$D"/run/*.pid; do
      if ! pid_alive "$pidfile"; then
        name="$(basename "$pidfile" .pid)"
        tail -n 30 "$D/log/$name.log" >&2 || true
        die "$name exited during startup (log: $D/log/$name.log)"
      fi
    done
    ready=1
    for entry in "${STORAGE_SERVERS[@]}"; do
      port_open "${entry##*:}" || ready=0
    done
    if ((ready)) && proxy_answers; then
      return
    fi
    sleep 0.5
  done
  die "proxy did not answer on 127.0.0.1:$PROXY_PORT within ${WAIT_SECONDS}s (logs: $D/log)"
}

main() {
  install_packages
  mkdir -p "$D"
  D="$(cd "$D" && pwd)"
  mkdir -p "$D/etc" "$D/srv/d1" "$D/run" "$D/log" "$D/cache"
  write_rings
  write_configs
  start_servers
  wait_until_ready
  log "ready; stop with scripts/s3-swift/stop.sh $D"
  cat <<OUT
S3_ENDPOINT=http://127.0.0.1:$PROXY_PORT
S3_REGION=$REGION
S3_ACCESS_KEY_ID=test:tester
S3_SECRET_ACCESS_KEY=testing
OUT
}

main
