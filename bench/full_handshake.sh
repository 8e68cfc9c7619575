#!/usr/bin/env bash
# Proxy CPU per full TLS handshake (ECDSA P-256, no resumption), proxies side by side.
#
#   bench/full_handshake.sh [--rounds N] [--duration S] [--clients N] ADAPTER...
#
# The peers bench's tls-handshake scenario measures resumptions: wrk offers the ticket it got on the connection
# before (see bench/RESULTS.md). This one measures the handshake the goal names. Each proxy is started through its
# peers-bench adapter (the same environment contract: WORKERS=1, pinned to CPU 0, a fresh ECDSA P-256 certificate
# for *.bench.test) and N `openssl s_time -new` clients, pinned to CPU 1, open TLS connections to it for S seconds:
# every connection is a new session, handshaken and closed with no request, so no upstream is involved. The
# proxies take turns, round by round. Printed: handshakes/s and the proxy's CPU time per handshake (utime + stime of
# every process in its tree, from /proc), per round and as medians, with the ratio to the first adapter's figure in
# the same round.
#
# Needs openssl, python3 and taskset; loopback only. Example, from the repository root after a release build:
#   bench/full_handshake.sh --rounds 3 ../shared/bench/adapters/nginx.sh ../shared/bench/adapters/haproxy.sh \
#     ../shared/bench/adapters/caddy.sh bench/peers/ringress.sh
set -euo pipefail
rounds=3 duration=5 clients=4
http_port=${HTTP_PORT:-38080} https_port=${HTTPS_PORT:-38443}
adapters=()
while (($#)); do
  case $1 in
  --rounds) rounds=$2; shift 2 ;;
  --duration) duration=$2; shift 2 ;;
  --clients) clients=$2; shift 2 ;;
  -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
  -*) echo "unknown option $1" >&2; exit 2 ;;
  *) adapters+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
  esac
done
((${#adapters[@]})) || { echo "usage: full_handshake.sh [--rounds N] [--duration S] [--clients N] ADAPTER..." >&2; exit 2; }

work=$(mktemp -d)
running_adapter=""
client_pids=()
cleanup() {
  for p in "${client_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n $running_adapter ]]; then "$running_adapter" stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench.test" \
  -addext "subjectAltName=DNS:bench.test,DNS:*.bench.test,DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" >"$work/openssl.log" 2>&1
chmod 644 "$work/key.pem" "$work/cert.pem"
export UPSTREAM=127.0.0.1:19000 HTTP_PORT=$http_port HTTPS_PORT=$https_port CERT=$work/cert.pem KEY=$work/key.pem
export HOSTS=1 WORKERS=1 PROXY_CPUS=0
ulimit -n 65536 2>/dev/null || true

# CPU ticks of a process and all its descendants.
tree_ticks() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
stats = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    if pid in stats:
        total += stats[pid][1]
        todo.extend(p for p, (ppid, _) in stats.items() if ppid == pid)
print(total)
PY
}

tick=$(getconf CLK_TCK)
printf '| round | proxy | handshakes/s | proxy CPU µs per handshake | ratio to %s |\n|---:|---|---:|---:|---:|\n' \
  "$(basename "${adapters[0]}" .sh)"
: >"$work/results"
for round in $(seq 1 "$rounds"); do
  ref=""
  for adapter in "${adapters[@]}"; do
    name=$(basename "$adapter" .sh)
    export WORKDIR=$work/$name.$round
    mkdir -p "$WORKDIR"
    taskset -c 0 "$adapter" start >"$work/$name.$round.start.log" 2>&1 ||
      { echo "$name failed to start: $(tail -n 3 "$work/$name.$round.start.log")" >&2; exit 1; }
    running_adapter=$adapter
    pid=$(head -n 1 "$WORKDIR/pid")
    for _ in $(seq 1 120); do
      timeout 1 openssl s_client -connect "127.0.0.1:$https_port" </dev/null >/dev/null 2>&1 && break
      sleep 0.5
    done
    before=$(tree_ticks "$pid")
    client_pids=()
    for i in $(seq 1 "$clients"); do
      taskset -c 1 openssl s_time -connect "127.0.0.1:$https_port" -new -time "$duration" >"$work/client.$i" 2>&1 &
      client_pids+=($!)
    done
    wait "${client_pids[@]}"
    client_pids=()
    after=$(tree_ticks "$pid")
    "$adapter" stop >/dev/null 2>&1
    running_adapter=""
    handshakes=0
    for i in $(seq 1 "$clients"); do
      n=$(grep -oE '^[0-9]+ connections in [0-9.]+s' "$work/client.$i" | head -n 1 | cut -d' ' -f1)
      handshakes=$((handshakes + ${n:-0}))
    done
    ((handshakes > 0)) || { echo "$name: no handshake completed" >&2; exit 1; }
    us=$(python3 -c "print(f'{($after - $before) / $tick * 1e6 / $handshakes:.1f}')")
    [[ -n $ref ]] || ref=$us
    ratio=$(python3 -c "print(f'{$us / $ref:.2f}')")
    printf '| %d | %s | %d | %s | ×%s |\n' "$round" "$name" $((handshakes / duration)) "$us" "$ratio"
    echo "$name $((handshakes / duration)) $us $ratio" >>"$work/results"
  done
done
echo
echo "Medians of $rounds rounds ($clients clients, $duration s each):"
echo
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, hs, us, ratio = line.split()
    rows.setdefault(name, []).append((float(hs), float(us), float(ratio)))
print("| proxy | handshakes/s | proxy CPU µs per handshake | ratio (min–max) |\n|---|---:|---:|---:|")
for name, r in rows.items():
    med = lambda i: statistics.median(x[i] for x in r)
    lo, hi = min(x[2] for x in r), max(x[2] for x in r)
    print(f"| {name} | {med(0):,.0f} | {med(1):.1f} | ×{med(2):.2f} ({lo:.2f}–{hi:.2f}) |")
PY
