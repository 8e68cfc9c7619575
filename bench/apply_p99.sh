#!/usr/bin/env bash
# Request latency while the control thread applies big provider configurations.
#
# Starts, all on loopback: an nginx upstream, a stand-in control plane (Python) that answers the provider endpoint
# with a platform body of --routers routers, and ringress (release build, one worker) pinned to CPU 0 with the
# provider polled every --poll seconds. wrk then drives a route-file route (keep-alive, 64 connections, pinned to
# CPU 1 with the upstream) for --duration seconds and prints its latency distribution, the number of polls answered,
# and the CPU time of ringress's control thread and worker during the run.
#
#   --churn none   every poll gets the same body (the control thread skips it)
#   --churn one    consecutive polls differ in one router (an app deployed: the incremental case)
#   --churn all    consecutive polls differ in every router (each poll is a full apply)
#
# Usage: bench/apply_p99.sh [--routers N] [--churn none|one|all] [--duration S] [--poll S] [--bin PATH]
# Compare `--churn none` with `--churn one` / `--churn all` in the same sitting; this machine's noise is about ±10 %.
set -euo pipefail

ROUTERS=100000
CHURN=one
DURATION=20
POLL=1
here=$(cd "$(dirname "$0")" && pwd)
BIN=${RINGRESS_BIN:-$here/../target/release/ringress}
HTTP_PORT=${HTTP_PORT:-28180}
UP_PORT=${UP_PORT:-19180}
CP_PORT=${CP_PORT:-19181}
while [[ $# -gt 0 ]]; do
  case $1 in
  --routers) ROUTERS=$2; shift ;;
  --churn) CHURN=$2; shift ;;
  --duration) DURATION=$2; shift ;;
  --poll) POLL=$2; shift ;;
  --bin) BIN=$2; shift ;;
  -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
  *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case $CHURN in none | one | all) ;; *) echo "--churn must be none, one or all" >&2; exit 2 ;; esac
[[ -x $BIN ]] || { echo "no ringress binary at $BIN (cargo build --release)" >&2; exit 1; }
for t in wrk nginx python3 curl taskset; do command -v "$t" >/dev/null || { echo "$t is needed" >&2; exit 1; }; done

WORK=$(mktemp -d)
chmod 755 "$WORK"   # the upstream nginx may serve files as an unprivileged user
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -s $WORK/nginx.pid ]] && kill -TERM "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- upstream: a one-process nginx answering a small body
mkdir -p "$WORK/www" "$WORK/tmp"
printf 'hello, bench\n' >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP_PORT default_server; root $WORK/www; }
}
CONF
taskset -c 1 nginx -c "$WORK/nginx.conf" -e "$WORK/nginx.err"

# ---- stand-in control plane: bodies rendered once, served alternately
cat >"$WORK/cp.py" <<'PY'
import http.server, json, sys
routers, churn, port, upstream, count_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def body(variant):
    r, s = {}, {}
    for i in range(routers):
        name = "app-%d" % i
        changed = (churn == "all" or (churn == "one" and i == 0)) and variant == 1
        rule = "Host(`%s.apps.example.com`)" % (name + ("-v2" if changed else ""))
        if i % 50 == 0:
            rule += " && PathPrefix(`/api`)"
        router = {"rule": rule, "service": name, "entryPoints": ["web"]}
        r[name] = router
        s[name] = {"loadBalancer": {"servers": [{"url": "http://%s" % upstream}]}}
    return json.dumps({"http": {"routers": r, "services": s}}).encode()

bodies = [body(0), body(1)]
served = [0]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        b = bodies[served[0] % 2 if churn != "none" else 0]
        served[0] += 1
        with open(count_file, "w") as f:
            f.write(str(served[0]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
taskset -c 1 python3 "$WORK/cp.py" "$ROUTERS" "$CHURN" "$CP_PORT" "127.0.0.1:$UP_PORT" "$WORK/polls" &
PIDS+=($!)
for _ in $(seq 1 300); do   # rendering the bodies takes a few seconds at 100k routers
  curl -s -o /dev/null "http://127.0.0.1:$CP_PORT/" && break
  sleep 0.2
done
echo 0 >"$WORK/polls"

# ---- ringress: one worker on CPU 0, provider polled every $POLL s, the bench route from a route file
printf -- '- id: h1.bench.test\n  target: 127.0.0.1:%s\n' "$UP_PORT" >"$WORK/routes.yml"
cat >"$WORK/ringress.yml" <<CONF
entryPoints:
  web:
    address: "127.0.0.1:$HTTP_PORT"
providers:
  http:
    endpoint: "http://127.0.0.1:$CP_PORT/v1/traefik/proxy-config"
    pollInterval: "${POLL}s"
    pollTimeout: "30s"
serversTransport:
  maxIdleConnsPerHost: 1024
log: { level: WARN }
ringress:
  workers: 1
  routes: "$WORK/routes.yml"
  admin: { enabled: false }
CONF
taskset -c 0 "$BIN" run -c "$WORK/ringress.yml" </dev/null >"$WORK/ringress.log" 2>&1 &
RPID=$!
PIDS=("$RPID" "${PIDS[@]}")

for _ in $(seq 1 600); do
  [[ $(cat "$WORK/polls" 2>/dev/null || echo 0) -ge 2 ]] &&
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: h1.bench.test' "http://127.0.0.1:$HTTP_PORT/") == 200 ]] && break
  sleep 0.2
done
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: h1.bench.test' "http://127.0.0.1:$HTTP_PORT/") == 200 ]] ||
  { echo "ringress did not come up:" >&2; cat "$WORK/ringress.log" >&2; exit 1; }

# CPU ticks of ringress's threads: control thread and workers
ticks() { # $1 = thread name prefix
  local sum=0 t
  for t in /proc/"$RPID"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) == "$1"* ]] || continue
    read -r -a f < <(sed 's/^.*) //' "$t/stat")
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
}
hz=$(getconf CLK_TCK)
p0=$(cat "$WORK/polls"); c0=$(ticks ringress-contr); w0=$(ticks ringress-w)
taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" --latency -H 'Host: h1.bench.test' "http://127.0.0.1:$HTTP_PORT/" | tee "$WORK/wrk.out"
p1=$(cat "$WORK/polls"); c1=$(ticks ringress-contr); w1=$(ticks ringress-w)
echo "routers=$ROUTERS churn=$CHURN poll=${POLL}s polls_answered=$((p1 - p0))"
echo "control_thread_cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')" \
  "worker_cpu_s=$(awk -v a="$w0" -v b="$w1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')"
grep -i -E "error|warn" "$WORK/ringress.log" | grep -v -i "certificate\|acme" | head -5 || true
