#!/usr/bin/env bash
# Stop the servers scripts/s3-swift/setup.sh started. Usage: stop.sh [DIR]
# Only processes recorded in DIR/run/*.pid are signalled; data in DIR is kept.
set -euo pipefail

D="${1:-${S3_SWIFT_DIR:-$PWD/.s3-swift}}"
[[ -d "$D/run" ]] || { echo "[s3-swift] nothing to stop in $D" >&2; exit 0; }

# Each server was started with setsid, so its pid is also its process group (workers included).
for pidfile in "$D"/run/*.pid; do
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  name="$(basename "$pidfile" .pid)"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    echo "[s3-swift] stopped $name (pid $pid)" >&2
  fi
  rm -f "$pidfile"
done
