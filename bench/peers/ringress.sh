#!/usr/bin/env bash
# Adapter: ringress as the proxy under test for the peers bench.  Usage: ringress.sh start|stop|version
# Contract: env UPSTREAM HTTP_PORT HTTPS_PORT CERT KEY HOSTS WORKERS WORKDIR (see the peers bench README).
# Route table: a route file with one exact entry per host (h1.bench.test … h$HOSTS.bench.test → UPSTREAM), the
# 1Backend format ringress reads; route-file routes serve plain HTTP and TLS alike. The certificate is handed over
# as an acme.json entry (Traefik's layout, the only certificate store ringress reads), covering *.bench.test.
# WORKERS → ringress.workers; both ports are ordinary entrypoints (TLS is sniffed per connection).
set -euo pipefail
: "${WORKDIR:?}" "${UPSTREAM:?}" "${HTTP_PORT:?}" "${HTTPS_PORT:?}" "${CERT:?}" "${KEY:?}"
HOSTS=${HOSTS:-1}
WORKERS=${WORKERS:-1}
here=$(cd "$(dirname "$0")" && pwd)
RINGRESS=${RINGRESS_BIN:-$here/../../target/release/ringress}

# true while the process exists and is not a zombie
running() { [[ -r /proc/$1/stat && $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) != Z ]]; }

start() {
  [[ -x $RINGRESS ]] || { echo "ringress binary not found at $RINGRESS (cargo build --release)" >&2; exit 1; }
  mkdir -p "$WORKDIR"
  seq 1 "$HOSTS" | awk -v up="$UPSTREAM" '{ printf "- id: h%d.bench.test\n  target: %s\n", $1, up }' >"$WORKDIR/routes.yml"
  python3 - "$CERT" "$KEY" "$WORKDIR/acme.json" <<'PY'
import base64, json, os, sys
cert, key, out = sys.argv[1:4]
b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
doc = {"bench": {"Certificates": [{"domain": {"main": "*.bench.test", "sans": ["bench.test", "localhost"]},
                                     "certificate": b64(cert), "key": b64(key), "Store": "default"}]}}
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(doc, f)
PY
  cat >"$WORKDIR/ringress.yml" <<CONF
entryPoints:
  web:
    address: "127.0.0.1:$HTTP_PORT"
    transport: { respondingTimeouts: { readTimeout: "300s", idleTimeout: "300s" } }
  websecure:
    address: "127.0.0.1:$HTTPS_PORT"
    transport: { respondingTimeouts: { readTimeout: "300s", idleTimeout: "300s" } }
serversTransport:
  forwardingTimeouts: { dialTimeout: "5s", responseHeaderTimeout: "300s", idleConnTimeout: "300s" }
  maxIdleConnsPerHost: 1024
certificatesResolvers:
  bench:
    acme: { storage: "$WORKDIR/acme.json", httpChallenge: { entryPoint: web } }
log: { level: WARN }
ringress:
  workers: $WORKERS
  routes: "$WORKDIR/routes.yml"
  admin: { enabled: false }
CONF
  "$RINGRESS" run -c "$WORKDIR/ringress.yml" </dev/null >"$WORKDIR/ringress.log" 2>&1 &
  echo $! >"$WORKDIR/pid"
}

stop() {
  [[ -s $WORKDIR/pid ]] || return 0
  local pid; pid=$(head -n1 "$WORKDIR/pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do running "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
start) start ;;
stop) stop ;;
version) "$RINGRESS" version ;;
*) echo "usage: $0 start|stop|version" >&2; exit 2 ;;
esac
