#!/usr/bin/env bash
# Deployment rehearsal: the platform's topology in network namespaces over real WireGuard, with ringress as the single
# public ingress, a real ACME CA (pebble) validating HTTP-01 on the proxy's public :80, and six operational scenarios.
#
#   deploy/rehearsal/run.sh [path/to/ringress]        # as root; default: target/release/ringress
#   REHEARSAL_KEEP_LOGS=1 deploy/rehearsal/run.sh …   # keep the log directory after a passing run too
#
# Topology (every namespace, link and process is created here, named with this run's PID, and removed on exit):
#
#   <id>-net    198.18.0.1   the internet side: the client (curl, openssl), pebble (ACME :14000, management :15000,
#                            validates HTTP-01 on port 80), pebble-challtestsrv as the DNS server on :53 answering
#                            every name with the proxy's public address (the client's resolv.conf points at it)
#                 | veth "public" 198.18.0.0/24
#   <id>-proxy  198.18.0.30  ringress from deploy/ringress.yml, as user nobody with only CAP_NET_BIND_SERVICE,
#                            binding the real :80 and :443; mesh 10.50.0.30
#   <id>-cp     mesh 10.50.0.1   the stand-in control plane (control_plane.py) on :8081, Bearer token checked
#   <id>-worker mesh 10.50.0.2   two app servers (app.py) on :24207 (app-one) and :24208 (app-two)
#   <id>-ul     the WireGuard underlay: a bridge 198.18.1.0/24 with a veth to cp (.1), worker (.2) and proxy (.30)
#
# The mesh is wireguard-go + wg (keys generated per run) in cp, worker and proxy; the proxy's peer entry allows
# 10.50.0.0/24, the others a /32. The config is deploy/ringress.yml with only the token file, acme.json path, caServer,
# serversTransport.forwardingTimeouts.dialTimeout (2s, to bound scenario 4), ringress.acme.caCertificates (pebble's TLS
# CA) and ringress.acme.dnsServer (challtestsrv) changed; the endpoint and ports are the production ones.
#
# Scenarios (each prints PASS or FAIL with its evidence; the script exits 1 if any fails):
#   1. https://my-app.route.test/ answers 200 through the mesh with a certificate that verifies against pebble's root.
#   2. A custom domain added on the control plane is served over HTTPS with its own certificate; http redirects.
#   3. Control plane stopped: existing apps keep answering (30 s, 0 failures); an app added meanwhile appears within
#      one poll (5 s) after it returns.
#   4. The worker's WireGuard link down: requests fail fast (502/504 within dialTimeout + 1 s); link up: 200 again.
#   5. ringress restarted: the whole table is served within 5 s, pebble gets no new order (certificates from disk).
#   6. A wrong token: the last table keeps serving, one log line names the 401, the token is never logged.
#
# Every wait is bounded (the whole run takes about two minutes, at most five); processes are stopped by PID.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."

BIN_ARG="${1:-target/release/ringress}"
HERE=deploy/rehearsal
PY=/usr/bin/python3 # Debian's python3 (standard library only)
KEEP_LOGS="${REHEARSAL_KEEP_LOGS:-0}"
BUDGET=300 # seconds for the whole run

ID="rh$$"
NS_NET="$ID-net" NS_PROXY="$ID-proxy" NS_CP="$ID-cp" NS_WORKER="$ID-worker" NS_UL="$ID-ul"
# wireguard-go's control socket is /var/run/wireguard/<ifname>.sock, one directory for every namespace: unique names.
WG_CP="${ID}cp" WG_WORKER="${ID}wk" WG_PROXY="${ID}px"
PUBLIC_IP=198.18.0.30   # the proxy's public address
INTERNET_IP=198.18.0.1  # pebble, challtestsrv and the client
CP_MESH=10.50.0.1 WORKER_MESH=10.50.0.2 PROXY_MESH=10.50.0.30
WG_PORT=51820
APP_ONE_PORT=24207 APP_TWO_PORT=24208
ACME_DIR="https://$INTERNET_IP:14000/dir"
PEBBLE_MGMT="https://$INTERNET_IP:15000"
ENDPOINT="http://$CP_MESH:8081/v1/traefik/proxy-config"

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
die() {
  printf '  FAIL (setup): %s\n' "$*"
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (namespaces, WireGuard interfaces, packages)"

# ---------------------------------------------------------------------------------------------------------------------
# Clean-up: every process by PID, every namespace by name, the files placed outside the work directory.
PIDS=()
NAMESPACES=()
MADE_ETC_NETNS=0
WORK=""
cleanup() {
  local code=$? pid ns
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f "/var/run/wireguard/$WG_CP.sock" "/var/run/wireguard/$WG_WORKER.sock" "/var/run/wireguard/$WG_PROXY.sock"
  rm -rf "/etc/netns/$NS_NET"
  if ((MADE_ETC_NETNS)); then rmdir /etc/netns 2>/dev/null || true; fi
  if [[ -n $WORK ]]; then
    if [[ $code -eq 0 && $KEEP_LOGS != 1 ]]; then
      rm -rf "$WORK"
      printf '\nlogs removed (all passed; REHEARSAL_KEEP_LOGS=1 keeps them)\n'
    else
      printf '\nlogs kept for inspection: %s/logs\n' "$WORK"
    fi
  fi
  exit "$code"
}
trap cleanup EXIT
set -E
trap 'printf "  FAIL (script): line %s: %s exited %s\n" "$LINENO" "$BASH_COMMAND" "$?"' ERR
trap 'exit 143' TERM
trap 'exit 130' INT

# True once process $1 is gone, false after $2 seconds.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
# Runs "$@" every 0.2 s until it succeeds (0) or $1 seconds have passed (1). No wait runs past the run's budget
# (less 20 s for the clean-up): a run that goes wrong everywhere still ends within it.
wait_until() {
  local limit=$1 start left=$((BUDGET - 20 - SECONDS))
  shift
  ((limit <= left)) || limit=$((left > 0 ? left : 0))
  start=$(now_ms)
  while true; do
    "$@" && return 0
    (($(now_ms) - start < limit * 1000)) || return 1
    sleep 0.2
  done
}
now_ms() {
  local t=${EPOCHREALTIME/./}
  printf '%s' $((10#$t / 1000))
}
secs_since() { # milliseconds timestamp -> seconds, two decimals
  local d=$(($(now_ms) - $1))
  printf '%d.%02d' $((d / 1000)) $((d % 1000 / 10))
}
in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}
# Starts "$@" in namespace $1 with its output in $LOGS/$2.log; sets LAST_PID.
spawn() {
  local ns=$1 name=$2
  shift 2
  ip netns exec "$ns" "$@" >"$LOGS/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# Stops one process started here (SIGTERM, then SIGKILL after $2 s, default 10); sets STOP_CODE.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait_gone "$1" "${2:-10}" || kill -KILL "$1" 2>/dev/null || true
  STOP_CODE=0
  wait "$1" 2>/dev/null || STOP_CODE=$?
}
listening_tcp() { in_ns "$1" ss -Hltn "sport = :$2" | grep -q .; }
listening_udp() { in_ns "$1" ss -Hlun "sport = :$2" | grep -q .; }

# ---------------------------------------------------------------------------------------------------------------------
step "prerequisites"
BIN="$(realpath "$BIN_ARG")"
[[ -x $BIN ]] || die "$BIN_ARG: no such executable (cargo build --release --bins)"
need=()
command -v wireguard-go >/dev/null 2>&1 || need+=(wireguard-go)
command -v wg >/dev/null 2>&1 || need+=(wireguard-tools)
command -v pebble >/dev/null 2>&1 && command -v pebble-challtestsrv >/dev/null 2>&1 || need+=(pebble)
command -v ip >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
[[ -x $PY ]] || need+=(python3)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing: wireguard-go needs TUN"
ok "$(wireguard-go --version 2>&1 | head -n 1), $(wg --version | awk '{ print $1, $2 }'), pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?'), $(curl --version | head -n 1 | awk '{ print $1, $2 }'), ringress $("$BIN" --version 2>/dev/null | awk '{ print $NF }')"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ringress-rehearsal.XXXXXX")"
chmod 0755 "$WORK"
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/pebble" "$WORK/wg" "$WORK/cp" "$WORK/proxy/state" "$WORK/bin"
chmod 0755 "$LOGS" "$WORK/proxy" "$WORK/bin"
chmod 0700 "$WORK/wg" "$WORK/cp"
chown nobody:nogroup "$WORK/proxy/state"
chmod 0700 "$WORK/proxy/state"
install -m 0755 "$BIN" "$WORK/bin/ringress" # where the unprivileged user can run it, as /usr/local/bin in production
ok "run $ID, work directory $WORK"

# ---------------------------------------------------------------------------------------------------------------------
step "namespaces and links"
for ns in "$NS_UL" "$NS_NET" "$NS_PROXY" "$NS_CP" "$NS_WORKER"; do
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
done
# The underlay: a bridge in its own namespace, one veth per mesh host (created directly inside the namespaces).
ip -n "$NS_UL" link add br0 type bridge
ip -n "$NS_UL" link set br0 up
underlay_ip() {
  case $1 in
  "$NS_CP") echo 198.18.1.1 ;;
  "$NS_WORKER") echo 198.18.1.2 ;;
  "$NS_PROXY") echo 198.18.1.30 ;;
  esac
}
i=0
for ns in "$NS_CP" "$NS_WORKER" "$NS_PROXY"; do
  i=$((i + 1))
  ip -n "$NS_UL" link add "port$i" type veth peer name ul0 netns "$ns"
  ip -n "$NS_UL" link set "port$i" master br0 up
  ip -n "$ns" addr add "$(underlay_ip "$ns")/24" dev ul0
  ip -n "$ns" link set ul0 up
done
# The public side: one veth between the proxy and the internet namespace.
ip -n "$NS_NET" link add pub0 type veth peer name pub0 netns "$NS_PROXY"
ip -n "$NS_NET" addr add "$INTERNET_IP/24" dev pub0
ip -n "$NS_PROXY" addr add "$PUBLIC_IP/24" dev pub0
ip -n "$NS_NET" link set pub0 up
ip -n "$NS_PROXY" link set pub0 up
ok "${NAMESPACES[*]}; underlay 198.18.1.0/24 (bridge in $NS_UL), public 198.18.0.0/24 (veth $NS_PROXY <-> $NS_NET)"

# ---------------------------------------------------------------------------------------------------------------------
step "WireGuard mesh (wireguard-go, keys generated for this run)"
for node in cp worker proxy; do
  (umask 077 && wg genkey >"$WORK/wg/$node.key")
  wg pubkey <"$WORK/wg/$node.key" >"$WORK/wg/$node.pub"
done
pub() { cat "$WORK/wg/$1.pub"; }
start_wg() { # namespace ifname node mesh-ip
  spawn "$1" "wireguard-go-$3" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$2"
  wait_until 10 test -S "/var/run/wireguard/$2.sock" || die "wireguard-go $2 did not create its control socket"
}
start_wg "$NS_CP" "$WG_CP" cp
start_wg "$NS_WORKER" "$WG_WORKER" worker
start_wg "$NS_PROXY" "$WG_PROXY" proxy
# As in the seed: every host lists the others; the proxy's peer entry allows the whole mesh 10.50.0.0/24.
in_ns "$NS_CP" wg set "$WG_CP" private-key "$WORK/wg/cp.key" listen-port "$WG_PORT" \
  peer "$(pub worker)" endpoint "198.18.1.2:$WG_PORT" allowed-ips "$WORKER_MESH/32" persistent-keepalive 25 \
  peer "$(pub proxy)" endpoint "198.18.1.30:$WG_PORT" allowed-ips 10.50.0.0/24 persistent-keepalive 25
in_ns "$NS_WORKER" wg set "$WG_WORKER" private-key "$WORK/wg/worker.key" listen-port "$WG_PORT" \
  peer "$(pub cp)" endpoint "198.18.1.1:$WG_PORT" allowed-ips "$CP_MESH/32" persistent-keepalive 25 \
  peer "$(pub proxy)" endpoint "198.18.1.30:$WG_PORT" allowed-ips 10.50.0.0/24 persistent-keepalive 25
in_ns "$NS_PROXY" wg set "$WG_PROXY" private-key "$WORK/wg/proxy.key" listen-port "$WG_PORT" \
  peer "$(pub cp)" endpoint "198.18.1.1:$WG_PORT" allowed-ips "$CP_MESH/32" persistent-keepalive 25 \
  peer "$(pub worker)" endpoint "198.18.1.2:$WG_PORT" allowed-ips "$WORKER_MESH/32" persistent-keepalive 25
for spec in "$NS_CP $WG_CP $CP_MESH" "$NS_WORKER $WG_WORKER $WORKER_MESH" "$NS_PROXY $WG_PROXY $PROXY_MESH"; do
  read -r ns ifname mesh <<<"$spec"
  ip -n "$ns" addr add "$mesh/24" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
done
ok "$WG_CP ($CP_MESH), $WG_WORKER ($WORKER_MESH), $WG_PROXY ($PROXY_MESH), UDP $WG_PORT over the underlay"

# ---------------------------------------------------------------------------------------------------------------------
step "the internet side: challtestsrv (DNS) and pebble (ACME CA) in $NS_NET"
# pebble needs its own TLS certificate: a CA and a leaf for its address, made here (ringress trusts this CA through
# ringress.acme.caCertificates; Let's Encrypt needs no such setting).
(
  cd "$WORK/pebble"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls-ca.key -out tls-ca.pem -days 2 \
    -subj "/CN=ringress rehearsal CA for pebble" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.csr \
    -subj "/CN=pebble" 2>/dev/null
  printf 'subjectAltName=IP:%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' "$INTERNET_IP" \
    >cert.ext
  openssl x509 -req -in cert.csr -CA tls-ca.pem -CAkey tls-ca.key -set_serial "0x$(openssl rand -hex 8)" -days 2 \
    -extfile cert.ext -out cert.pem 2>/dev/null
  chmod 0644 tls-ca.pem
)
cat >"$WORK/pebble/config.json" <<EOF
{"pebble": {"listenAddress": "$INTERNET_IP:14000", "managementListenAddress": "$INTERNET_IP:15000",
  "certificate": "$WORK/pebble/cert.pem", "privateKey": "$WORK/pebble/key.pem",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
# Every A query is answered with the proxy's public address: the app names and the custom domains all point at it.
spawn "$NS_NET" challtestsrv pebble-challtestsrv -defaultIPv4 "$PUBLIC_IP" -defaultIPv6 "" \
  -dns01 "$INTERNET_IP:53" -http01 "" -https01 "" -tlsalpn01 "" -management "$INTERNET_IP:8055"
wait_until 10 listening_udp "$NS_NET" 53 || die "challtestsrv is not answering DNS on :53 (see $LOGS/challtestsrv.log)"
# Real HTTP-01 validation (no PEBBLE_VA_ALWAYS_VALID), without pebble's random validation delay.
spawn "$NS_NET" pebble env -u PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_NOSLEEP=1 \
  pebble -config "$WORK/pebble/config.json" -dnsserver "$INTERNET_IP:53"
wait_until 15 listening_tcp "$NS_NET" 14000 || die "pebble is not listening on :14000 (see $LOGS/pebble.log)"
wait_until 15 listening_tcp "$NS_NET" 15000 || die "pebble's management interface is not listening on :15000"
# The client in $NS_NET resolves through challtestsrv (ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf).
[[ -d /etc/netns ]] || MADE_ETC_NETNS=1
mkdir -p "/etc/netns/$NS_NET"
printf 'nameserver %s\n' "$INTERNET_IP" >"/etc/netns/$NS_NET/resolv.conf"
ROOT="$WORK/pebble/root.pem"
in_ns "$NS_NET" curl -sSf --max-time 10 --cacert "$WORK/pebble/tls-ca.pem" -o "$ROOT" "$PEBBLE_MGMT/roots/0" ||
  die "GET $PEBBLE_MGMT/roots/0 failed"
ok "pebble ACME $ACME_DIR, issuing root: $(openssl x509 -in "$ROOT" -noout -subject)"
resolved="$(in_ns "$NS_NET" getent ahostsv4 my-app.route.test | awk 'NR == 1 { print $1 }')"
[[ $resolved == "$PUBLIC_IP" ]] || die "my-app.route.test resolves to '$resolved' in $NS_NET, expected $PUBLIC_IP"
ok "DNS in $NS_NET: my-app.route.test -> $resolved (challtestsrv, -defaultIPv4)"

# ---------------------------------------------------------------------------------------------------------------------
step "apps on the worker, the stand-in control plane on cp"
spawn "$NS_WORKER" apps "$PY" -u "$HERE/app.py" "$WORKER_MESH" "$APP_ONE_PORT" app-one "$APP_TWO_PORT" app-two
wait_until 10 listening_tcp "$NS_WORKER" "$APP_TWO_PORT" || die "the apps did not start (see $LOGS/apps.log)"
TOKEN="rehearsal-$(openssl rand -hex 24)"
install -m 0600 /dev/null "$WORK/cp/token"
printf '%s\n' "$TOKEN" >"$WORK/cp/token"
STATE="$WORK/cp/state.json"
cpctl() { "$PY" "$HERE/control_plane.py" "$@"; }
cpctl set-app "$STATE" my-app "http://$WORKER_MESH:$APP_ONE_PORT" my-app.route.test
cpctl set-app "$STATE" other-app "http://$WORKER_MESH:$APP_TWO_PORT" other-app.route.test
CP_RUNS=0
start_cp() {
  CP_RUNS=$((CP_RUNS + 1))
  spawn "$NS_CP" "control-plane-$CP_RUNS" "$PY" -u "$HERE/control_plane.py" serve --listen "$CP_MESH:8081" \
    --token-file "$WORK/cp/token" --state "$STATE"
  CP_PID=$LAST_PID
  wait_until 10 listening_tcp "$NS_CP" 8081 || die "the control plane did not start (see $LOGS/control-plane-$CP_RUNS.log)"
}
start_cp
ok "apps on $WORKER_MESH:$APP_ONE_PORT (app-one) and :$APP_TWO_PORT (app-two); control plane on $ENDPOINT"

# The mesh carries traffic both ways before ringress starts (first packets trigger the handshakes).
mesh_app() { in_ns "$NS_PROXY" curl -sSf --max-time 2 -o /dev/null "http://$WORKER_MESH:$APP_ONE_PORT/"; }
wait_until 15 mesh_app || die "proxy -> worker over WireGuard: no answer within 15 s"
code="$(in_ns "$NS_PROXY" curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$ENDPOINT" || true)"
[[ $code == 401 ]] || die "the control plane answered $code without a token, expected 401"
code="$(in_ns "$NS_PROXY" curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$ENDPOINT" || true)"
[[ $code == 200 ]] || die "the control plane answered $code with the token, expected 200"
ok "over the mesh from the proxy: app-one answers; control plane 401 without the token, 200 with it"
in_ns "$NS_PROXY" wg show "$WG_PROXY" latest-handshakes | while read -r key ts; do
  say "proxy peer ${key:0:8}…: handshake $(($(date +%s) - ts)) s ago"
done

# ---------------------------------------------------------------------------------------------------------------------
step "ringress in $NS_PROXY: deploy/ringress.yml, unprivileged, CAP_NET_BIND_SERVICE only"
CONF="$WORK/proxy/ringress.yml"
install -m 0640 -o root -g nogroup /dev/null "$WORK/proxy/provider-token"
printf '%s\n' "$TOKEN" >"$WORK/proxy/provider-token"
install -m 0644 "$WORK/pebble/tls-ca.pem" "$WORK/proxy/pebble-tls-ca.pem"
# Exact-line edits of the production file; each anchor must match once, or the file changed shape and this must too.
awk -v token="$WORK/proxy/provider-token" -v storage="$WORK/proxy/state/acme.json" -v ca_server="$ACME_DIR" \
  -v ca="$WORK/proxy/pebble-tls-ca.pem" -v dns="$INTERNET_IP:53" '
  $0 == "    tokenFile: /etc/ringress/provider-token" { print "    tokenFile: " token; n1++; next }
  $0 == "      storage: /var/lib/ringress/acme.json        # Traefik'"'"'s format; mode 0600, owned by ringress" {
    print "      storage: " storage; n2++; next }
  /^      # caServer: / { print "      caServer: \"" ca_server "\""; n3++; next }
  $0 == "ringress:" {
    print "serversTransport:"
    print "  forwardingTimeouts:"
    print "    dialTimeout: \"2s\"    # rehearsal: a dead worker host fails a request within 2 s (default 10s)"
    print ""
    print "ringress:"
    print "  acme:"
    print "    caCertificates: \"" ca "\"    # pebble serves ACME over TLS with a CA of its own"
    print "    dnsServer: \"" dns "\"    # the pre-check resolves names where pebble does (challtestsrv)"
    n4++; next }
  { print }
  END { if (n1 != 1 || n2 != 1 || n3 != 1 || n4 != 1) { print "anchors: " n1 n2 n3 n4 > "/dev/stderr"; exit 1 } }
' deploy/ringress.yml >"$CONF" || die "deploy/ringress.yml no longer has the lines this script edits"
chown root:nogroup "$CONF"
chmod 0640 "$CONF"
diff -u deploy/ringress.yml "$CONF" >"$LOGS/ringress.yml.diff" || true
say "changed from deploy/ringress.yml (full diff: logs/ringress.yml.diff):"
grep -E '^[-+][^-+]' "$LOGS/ringress.yml.diff" | sed 's/^/      /'
grep -q '^    endpoint: "http://10.50.0.1:8081/v1/traefik/proxy-config"$' "$CONF" || die "endpoint changed"
if ! grep -q '^    address: ":80"$' "$CONF" || ! grep -q '^    address: ":443"$' "$CONF"; then die "ports changed"; fi

CAPS="-all,+net_bind_service"
as_ringress=(env -i PATH=/usr/bin:/bin setpriv --reuid=nobody --regid=nogroup --init-groups --no-new-privs
  "--inh-caps=$CAPS" "--ambient-caps=$CAPS" "--bounding-set=$CAPS" --)
code=0
in_ns "$NS_PROXY" "${as_ringress[@]}" "$WORK/bin/ringress" check -c "$CONF" >"$LOGS/check.out" 2>"$LOGS/check.err" ||
  code=$?
[[ $code -eq 0 ]] || { cat "$LOGS/check.err"; die "ringress check exited $code"; }
! grep ' WARN ' "$LOGS/check.err" || die "ringress check warns about the rehearsal config (above)"
ok "ringress check (as nobody, in $NS_PROXY): exit 0, no warning; $(grep '^provider http' "$LOGS/check.out")"

RUNS=0
start_ringress() {
  RUNS=$((RUNS + 1))
  RLOG="$LOGS/ringress-$RUNS.log"
  (cd "$WORK/proxy" && exec ip netns exec "$NS_PROXY" "${as_ringress[@]}" "$WORK/bin/ringress" run -c "$CONF") \
    >"$RLOG" 2>&1 &
  RPID=$!
  RSTART=$(now_ms)
  PIDS+=("$RPID")
}
ready() { grep -q ' ready: ' "$RLOG"; }
start_ringress
wait_until 30 ready || { tail -n 20 "$RLOG"; die "no ready line within 30 s (see $RLOG)"; }
say "$(grep -o 'ready: .*' "$RLOG")"
status="$(cat "/proc/$RPID/status")"
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
[[ $(field Uid) == 65534 && $(field CapEff) == 0000000000000400 && $(field CapBnd) == 0000000000000400 ]] ||
  die "ringress runs with uid $(field Uid), CapEff $(field CapEff), CapBnd $(field CapBnd)"
ok "pid $RPID: uid nobody, CapEff = CapBnd = CAP_NET_BIND_SERVICE; listening: $(in_ns "$NS_PROXY" ss -Hltn |
  awk '{ print $4 }' | sort -u | paste -sd' ')"

# ---------------------------------------------------------------------------------------------------------------------
# The client, in $NS_NET. req URL [curl args]: sets CODE, TIME (s), BODY, CURL_ERR.
req() {
  local out rc=0
  rm -f "$WORK/body"
  out="$(in_ns "$NS_NET" curl -sS --max-time "${REQ_MAX:-10}" --cacert "$ROOT" -o "$WORK/body" \
    -w '%{http_code} %{time_total}' "$@" 2>"$WORK/curl.err")" || rc=$?
  CODE="${out%% *}"
  TIME="${out##* }"
  BODY="$(cat "$WORK/body" 2>/dev/null || true)"
  CURL_ERR="$(head -c 200 "$WORK/curl.err")"
  [[ $rc -eq 0 ]] || CURL_ERR="curl exit $rc: $CURL_ERR"
}
# True when https://$1/ answers 200 from app $2, through the mesh, with a certificate valid for $1 under pebble's root.
serves() {
  req "https://$1/"
  [[ $CODE == 200 && $BODY == "$2 host=$1 peer=$PROXY_MESH" ]]
}
# The same without verifying the certificate (a new name is served with the default certificate until issued).
routes() {
  req "https://$1/" -k
  [[ $CODE == 200 && $BODY == "$2 host=$1 peer=$PROXY_MESH" ]]
}
# One line about the certificate served for $1: subject, SANs, issuer, serial, verification against pebble's root.
cert_line() {
  in_ns "$NS_NET" timeout 10 openssl s_client -connect "$1:443" -servername "$1" -CAfile "$ROOT" \
    </dev/null >"$WORK/sclient.out" 2>/dev/null || true
  printf '%s; %s; %s; %s; %s' \
    "$(openssl x509 -in "$WORK/sclient.out" -noout -subject 2>/dev/null)" \
    "SAN=$(openssl x509 -in "$WORK/sclient.out" -noout -ext subjectAltName 2>/dev/null | sed 1d | tr -d ' ')" \
    "$(openssl x509 -in "$WORK/sclient.out" -noout -issuer 2>/dev/null)" \
    "$(openssl x509 -in "$WORK/sclient.out" -noout -serial 2>/dev/null)" \
    "$(grep -o 'Verify return code: .*' "$WORK/sclient.out" | head -n 1)"
}
serial_of() { openssl x509 -in "$WORK/sclient.out" -noout -serial 2>/dev/null || true; }
orders() { grep -c 'Added order "' "$LOGS/pebble.log" || true; }

RESULTS=()
result() { # scenario-number ok(0/1) summary
  if [[ $2 == 0 ]]; then
    printf 'PASS %s: %s\n' "$1" "$3"
    RESULTS+=("PASS $1: $3")
  else
    printf 'FAIL %s: %s\n' "$1" "$3"
    RESULTS+=("FAIL $1: $3")
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 1: the seed's Step 7, curl -sI https://my-app.route.test/ from the internet"
t0=$(now_ms)
head_ok() {
  in_ns "$NS_NET" curl -sI --max-time 5 --cacert "$ROOT" https://my-app.route.test/ >"$WORK/head.out" 2>&1 &&
    head -n 1 "$WORK/head.out" | grep -q '^HTTP/1.1 200'
}
s=0
if wait_until 60 head_ok; then
  say "verified $(secs_since "$t0") s after ringress was ready: $(head -n 1 "$WORK/head.out" | tr -d '\r'), $(
    grep -i '^x-app:' "$WORK/head.out" | tr -d '\r')"
  say "ringress: $(grep -o 'ACME letsencrypt: certificate for my-app.route.test .*' "$RLOG" | head -n 1)"
  serves my-app.route.test app-one || s=1
  say "GET body: $BODY"
  say "certificate: $(cert_line my-app.route.test)"
  SERIAL_MYAPP="$(serial_of)"
  grep -q 'Verify return code: 0 (ok)' "$WORK/sclient.out" || s=1
  result 1 "$s" "200 through the mesh (peer $PROXY_MESH) with a certificate verifying against pebble's root"
else
  say "last answer: $(head -n 1 "$WORK/head.out" 2>/dev/null | tr -d '\r')"
  say "ringress: $(grep -i 'acme\|order\|certificate' "$RLOG" | tail -n 3 | paste -sd'|')"
  SERIAL_MYAPP=""
  result 1 1 "no verified 200 for https://my-app.route.test/ within 60 s"
fi
# other-app is part of the table from the start; scenarios 3 and 5 rely on its certificate too.
wait_until 60 serves other-app.route.test app-two || say "other-app.route.test: no verified 200 within 60 s ($CODE)"

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 2: a custom domain added on the control plane"
cpctl set-app "$STATE" my-app "http://$WORKER_MESH:$APP_ONE_PORT" my-app.route.test custom.example.test
t0=$(now_ms)
if wait_until 60 serves custom.example.test app-one; then
  took="$(secs_since "$t0")"
  say "https://custom.example.test/ after $took s: $CODE, body: $BODY"
  say "certificate: $(cert_line custom.example.test)"
  s=0
  grep -q 'Verify return code: 0 (ok)' "$WORK/sclient.out" || s=1
  [[ $(openssl x509 -in "$WORK/sclient.out" -noout -ext subjectAltName | sed 1d | tr -d ' ') == DNS:custom.example.test ]] ||
    s=1
  [[ -n $SERIAL_MYAPP && $(serial_of) != "$SERIAL_MYAPP" ]] || s=1
  say "my-app.route.test keeps its own certificate: $SERIAL_MYAPP"
  redirect="$(in_ns "$NS_NET" curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' \
    'http://custom.example.test/some/path?q=1' || true)"
  say "http://custom.example.test/some/path?q=1: $redirect"
  [[ $redirect == "301 https://custom.example.test/some/path?q=1" ]] || s=1
  result 2 "$s" "custom.example.test served over HTTPS with its own certificate after $took s; http -> 301 https"
else
  result 2 1 "no verified 200 for https://custom.example.test/ within 60 s (last: $CODE $CURL_ERR)"
fi

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 3: the control plane stops; the table stays; an app added meanwhile appears once it is back"
stop_pid "$CP_PID" 5
say "control plane (pid $CP_PID) stopped"
cpctl set-app "$STATE" new-app "http://$WORKER_MESH:$APP_TWO_PORT" new-app.route.test
say "new-app (new-app.route.test -> app-two) added to the control plane's state while it is down"
total=0 failures=0 first_failure=""
t0=$(now_ms)
while (($(now_ms) - t0 < 30000)); do
  for pair in my-app.route.test:app-one custom.example.test:app-one other-app.route.test:app-two; do
    total=$((total + 1))
    if ! serves "${pair%%:*}" "${pair##*:}"; then
      failures=$((failures + 1))
      [[ -n $first_failure ]] || first_failure="${pair%%:*}: $CODE $CURL_ERR"
    fi
  done
done
say "$total requests over 30 s to my-app, custom.example.test and other-app: $failures failed ${first_failure:+(first: $first_failure)}"
say "ringress: $(grep -o 'provider http: cannot connect.*' "$RLOG" | head -n 1)"
routes new-app.route.test app-two && absent=no || absent=yes
say "new-app.route.test before the control plane returns: $CODE (absent from the table: $absent)"
start_cp
t0=$(now_ms)
s=0
if wait_until 10 routes new-app.route.test app-two; then
  took="$(secs_since "$t0")"
  say "control plane back (pid $CP_PID); new-app.route.test routed after $took s: $BODY"
  say "ringress: $(grep -o 'provider http: polling works again.*' "$RLOG" | tail -n 1)"
  say "ringress: $(grep -o 'Configuration received from provider http: .*' "$RLOG" | tail -n 1)"
  (($(now_ms) - t0 <= 6000)) || s=1 # one poll (5 s) plus the request itself
else
  took="more than 10"
  s=1
fi
t1=$(now_ms)
if wait_until 60 serves new-app.route.test app-two; then
  say "new-app.route.test certificate after a further $(secs_since "$t1") s: $(cert_line new-app.route.test)"
else
  say "new-app.route.test: no verified certificate within 60 s ($CODE $CURL_ERR)"
  s=1
fi
[[ $absent == yes && $failures -eq 0 ]] || s=1
result 3 "$s" "$failures/$total failures while the control plane was down; new app routed $took s after it returned (<= 6 s: one 5 s poll)"

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 4: the worker's WireGuard link goes down, then comes back"
serves my-app.route.test app-one || say "before: my-app.route.test answers $CODE"
ip -n "$NS_WORKER" link set "$WG_WORKER" down
say "ip link set $WG_WORKER down (in $NS_WORKER)"
# A black-holed peer gives no ICMP: a new upstream connection fails by dialTimeout (2 s here), which ringress answers
# 504 as Traefik does (502 is for a refused or reset connection). Either is a fast failure; a request must never wait.
s=0
worst=0 fast=0 slow=0
for n in 1 2 3 4 5; do
  REQ_MAX=10 req https://my-app.route.test/
  ms=$(awk -v t="$TIME" 'BEGIN { printf "%d", t * 1000 }')
  ((ms > worst)) && worst=$ms
  if [[ $CODE == 502 || $CODE == 504 ]] && ((ms < 3000)); then
    fast=$((fast + 1))
    say "request $n: $CODE in $TIME s: $(head -n 1 <<<"$BODY")"
  else
    slow=$((slow + 1))
    say "request $n: $CODE in $TIME s${CURL_ERR:+ ($CURL_ERR)}: not a fast 502/504"
  fi
done
# What the proxy's upstream sockets to the worker look like now: a request written on a kept-alive connection and
# never acknowledged shows a non-zero Send-Q and a retransmission timer ("on").
in_ns "$NS_PROXY" ss -Htno state established "dst $WORKER_MESH" >"$WORK/ss.out" || true
say "proxy -> worker TCP connections during the outage: $(wc -l <"$WORK/ss.out") established, $(awk '$2 > 0' \
  "$WORK/ss.out" | wc -l) with unacknowledged bytes: $(awk '$2 > 0 { print $2 "B to " $4 " " $5 }' "$WORK/ss.out" |
  paste -sd' ')"
((slow == 0)) || s=1
ip -n "$NS_WORKER" link set "$WG_WORKER" up
t0=$(now_ms)
if wait_until 20 serves my-app.route.test app-one; then
  took="$(secs_since "$t0")"
  say "ip link set $WG_WORKER up: 200 again after $took s"
  ((10#${took%.*} <= 10)) || s=1
else
  took="more than 20"
  say "ip link set $WG_WORKER up: still $CODE after 20 s"
  s=1
fi
worst_s="$(printf '%d.%02d' $((worst / 1000)) $((worst % 1000 / 10)))"
result 4 "$s" "link down: $fast/5 requests failed fast (502/504 < 3 s), $slow did not (slowest $worst_s s, capped at 10 s); link up: 200 after $took s"

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 5: ringress restarts"
before="$(orders)"
t0=$(now_ms)
stop_pid "$RPID" 20
say "ringress (pid $RPID) stopped by SIGTERM in $(secs_since "$t0") s: exit $STOP_CODE; pebble orders so far: $before"
{ grep -o 'WARN .*grace period over.*' "$RLOG" || true; } | while read -r line; do say "ringress: $line"; done
start_ringress
all_served() {
  serves my-app.route.test app-one && serves custom.example.test app-one &&
    serves other-app.route.test app-two && serves new-app.route.test app-two
}
s=0
if wait_until 5 all_served; then
  took="$(secs_since "$RSTART")"
  say "pid $RPID: my-app, custom.example.test, other-app, new-app all 200 with verified certificates $took s after exec"
else
  took="more than 5"
  say "not all served within 5 s: last $CODE $CURL_ERR $BODY"
  s=1
fi
say "$(grep -o 'ready: .*' "$RLOG")"
sleep 6 # more than one poll: any order the restart would place has started by now
after="$(orders)"
say "pebble orders: $before before the restart, $after after it (from 'Added order' lines in pebble's log)"
[[ $after == "$before" ]] || s=1
result 5 "$s" "table back $took s after the restart, $((after - before)) new order(s) at pebble"

# ---------------------------------------------------------------------------------------------------------------------
step "scenario 6: a wrong token"
WRONG="wrong-$(openssl rand -hex 24)"
set_token() { # atomically, as an operator's editor or config management would
  install -m 0640 -o root -g nogroup /dev/null "$WORK/proxy/provider-token.new"
  printf '%s\n' "$1" >"$WORK/proxy/provider-token.new"
  mv "$WORK/proxy/provider-token.new" "$WORK/proxy/provider-token"
}
lines_401() { grep -c ' 401 ' "$RLOG" || true; }
set_token "$WRONG"
t0=$(now_ms)
s=0
if wait_until 12 grep -q ' 401 ' "$RLOG"; then
  say "after $(secs_since "$t0") s: $(grep ' 401 ' "$RLOG" | head -n 1)"
else
  say "no log line naming the 401 within 12 s"
  s=1
fi
total=0 failures=0
t1=$(now_ms)
while (($(now_ms) - t1 < 11000)); do # two more polls, still refused
  for pair in my-app.route.test:app-one custom.example.test:app-one other-app.route.test:app-two new-app.route.test:app-two; do
    total=$((total + 1))
    serves "${pair%%:*}" "${pair##*:}" || failures=$((failures + 1))
  done
done
say "meanwhile $total requests to the 4 names: $failures failed"
((failures == 0)) || s=1
n401="$(lines_401)"
say "log lines naming the 401: $n401, over $(secs_since "$t0") s in which the control plane refused $(
  grep -c ' 401 ' "$LOGS/control-plane-$CP_RUNS.log" || true) poll(s)"
[[ $n401 == 1 ]] || s=1
leaks=0
for f in "$LOGS"/ringress-*.log "$LOGS/check.out" "$LOGS/check.err"; do
  grep -qF -e "$TOKEN" -e "$WRONG" -e "${TOKEN:10:16}" -e "${WRONG:6:16}" "$f" && leaks=$((leaks + 1))
done
say "files among ringress's logs and check output containing either token (or a 16-character piece): $leaks"
((leaks == 0)) || s=1
set_token "$TOKEN"
if wait_until 12 grep -q 'provider http: polling works again' "$RLOG"; then
  say "token restored: $(grep -o 'provider http: polling works again.*' "$RLOG" | tail -n 1)"
else
  say "token restored, but no 'polling works again' line within 12 s"
  s=1
fi
result 6 "$s" "last table kept ($failures/$total failures), $n401 log line naming the 401, token never logged"

# ---------------------------------------------------------------------------------------------------------------------
step "summary"
printf '%s\n' "${RESULTS[@]}"
say "ringress WARN/ERROR lines over the run: $(cat "$LOGS"/ringress-*.log | grep -c ' WARN \| ERROR ' || true)"
say "whole run: $SECONDS s (budget $BUDGET s)"
((SECONDS < BUDGET)) || { printf 'FAIL: the run took %s s, more than %s s\n' "$SECONDS" "$BUDGET"; exit 1; }
if printf '%s\n' "${RESULTS[@]}" | grep -q '^FAIL'; then
  exit 1
fi
[[ ${#RESULTS[@]} -eq 6 ]] || exit 1
printf 'all 6 scenarios passed\n'
