#!/usr/bin/env bash
# A proxy's time per request as seen on the wire, beside what wrk reports.
#
#   bench/wire_latency.sh handshake PORT [HOST]      the peers bench's tls-handshake load, phase by phase
#   bench/wire_latency.sh keepalive PORT http|https [HOST]   h1-small / tls-small load, request → response
#
# Drives wrk (64 connections, pinned to CPU 1, as the peers bench does) against 127.0.0.1:PORT, captures half a
# second of loopback traffic on PORT with tcpdump in the middle of the run, and prints medians and tails per
# connection phase. wrk's latency runs from its request write to its reading of the response, so when wrk itself is
# the bottleneck its own event-loop delay is in the figure; the wire shows what the server took.
#
# handshake phases (TLS 1.3 resumption, small response; segments told apart by size): SYN → ClientHello (client),
# ClientHello → server flight (server: accept and handshake), server flight → Finished (client), request → tickets
# and request → response (server). keepalive: each client data segment to the next server data segment.
#
# Needs wrk, tcpdump and python3; loopback traffic only; run as root (tcpdump).
set -euo pipefail
mode=${1:?usage: wire_latency.sh handshake PORT [HOST] | keepalive PORT http|https [HOST]}
port=${2:?port}
case $mode in
handshake) scheme=https; host=${3:-h1.bench.test}; extra=(-H "Connection: close") ;;
keepalive) scheme=${3:?http or https}; host=${4:-h1.bench.test}; extra=() ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

taskset -c 1 wrk -t1 -c64 -d4s --latency -H "Host: $host" "${extra[@]}" "$scheme://127.0.0.1:$port/" >"$work/wrk.txt" &
wrk_pid=$!
sleep 2
timeout 0.5 tcpdump -i lo -nn -s 96 -w "$work/cap.pcap" "tcp port $port" 2>/dev/null || true
wait "$wrk_pid"
awk '/Requests\/sec/{r=$2} / 50%/{p50=$2} / 99%/{p99=$2} END{printf "wrk: %s/s, p50 %s, p99 %s\n", r, p50, p99}' "$work/wrk.txt"
tcpdump -r "$work/cap.pcap" -nn -tt 2>/dev/null >"$work/cap.txt"

python3 - "$mode" "$port" "$work/cap.txt" <<'PY'
import collections, re, statistics, sys

mode, port, path = sys.argv[1:4]
line_re = re.compile(r"^(\d+\.\d+) IP 127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+): Flags \[([^\]]*)\].*length (\d+)")
conns = collections.defaultdict(list)
for line in open(path):
    m = line_re.match(line)
    if m:
        t, src, dst, flags, size = float(m[1]), m[2], m[3], m[4], int(m[5])
        side, peer = ("S", dst) if src == port else ("C", src)
        conns[peer].append((t, side, flags, size))

phases = collections.defaultdict(list)
for events in conns.values():
    data = [(t, side, size) for t, side, _, size in events if size > 0]
    if mode == "keepalive":
        asked = None
        for t, side, _ in data:
            if side == "C" and asked is None:
                asked = t
            elif side == "S" and asked is not None:
                phases["request -> response (server)"].append(t - asked)
                asked = None
        continue
    if not (events[0][1] == "C" and events[0][2] == "S"):
        continue  # the capture began inside this connection

    def first(side, lo, hi):
        return next(t for t, s, n in data if s == side and lo <= n < hi)

    try:
        syn = events[0][0]
        hello = first("C", 300, 1 << 20)
        flight = first("S", 180, 260)
        tickets = first("S", 260, 1 << 20)
        response = first("S", 150, 200)
    except StopIteration:
        continue
    small = [t for t, s, n in data if s == "C" and 60 <= n < 100]
    if len(small) < 2:
        continue
    finished, request = small[0], small[1]
    phases["SYN -> ClientHello (client)"].append(hello - syn)
    phases["ClientHello -> server flight (server)"].append(flight - hello)
    phases["server flight -> Finished (client)"].append(finished - flight)
    phases["request -> tickets (server)"].append(tickets - request)
    phases["request -> response (server)"].append(response - request)

for name, values in phases.items():
    ms = sorted(v * 1e3 for v in values)
    tail = lambda q: ms[min(len(ms) - 1, int(len(ms) * q))]
    print(f"{name:40s} p50 {statistics.median(ms):7.3f}  p90 {tail(0.9):7.3f}  p99 {tail(0.99):7.3f} ms  ({len(ms)})")
if not phases:
    print("nothing matched: segment sizes differ from a small-response TLS 1.3 resumption?")
PY
