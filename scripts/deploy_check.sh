#!/usr/bin/env bash
# Checks deploy/ on this machine (run as root, Debian): the unit, the install script, the production config, and the
# release binary running the way the unit runs it.
#
#   scripts/deploy_check.sh [path/to/ringress]        # default: target/release/ringress
#
#  1. shellcheck on the shell scripts; `ringress check` on deploy/ringress.yml: no warning, no config error.
#  2. deploy/install.sh twice into a scratch root: identical listing (paths, types, modes, owners, sizes, hashes);
#     the operator's config is never overwritten; IMPORT_ACME copies acme.json once, 0600 ringress.
#  3. systemd-analyze verify on the installed unit (scratch root with the binary in place): no output at all.
#  4. systemd-analyze security --offline=true: overall exposure <= 2.0.
#  5. The unit's SystemCallFilter=, expanded by systemd-analyze: io_uring_setup/enter/register and setpriority are allowed.
#  6. The binary as the unit's ExecStart runs it, without systemd: an unprivileged user whose only capability is
#     CAP_NET_BIND_SERVICE (setpriv: ambient + bounding set), no_new_privs, and a seccomp filter built from the
#     unit's SystemCallFilter=/SystemCallErrorNumber= (python3-seccomp). Binds 127.0.0.1:80 and :443, must log
#     "on io_uring", hold one io_uring instance per worker, answer HTTP on :80 and TLS on :443, send READY=1 and
#     STOPPING=1 to $NOTIFY_SOCKET, and exit 0 on SIGTERM. Two negative controls show the checks can fail: without
#     the capability the bind is refused; with io_uring removed from the filter the ready line says epoll.
#  7. The installed unit under a real systemd (PID 1 of a systemd-nspawn container that boots this host's /usr with
#     a private network): `systemctl start` returns only after READY=1, the status says io_uring, the sandbox is in
#     force (/proc status), the production config polls a fake control plane with the token, serves :80/:443, writes
#     acme.json in the StateDirectory, and STOPPING=1 moves the unit to deactivating while a request drains.
#     DEPLOY_CHECK_SYSTEMD=0 skips this step (it says so).
#
# Every wait is bounded; every process started here is stopped by its PID; temp files are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="$(realpath "${1:-target/release/ringress}")"
RUN_SYSTEMD="${DEPLOY_CHECK_SYSTEMD:-1}"
UNIT=deploy/ringress.service
MAX_EXPOSURE=2.0
PY=/usr/bin/python3 # Debian's python3, where python3-seccomp lives

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
fail() {
  printf '  FAIL: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root (it installs packages, switches users and binds ports 80 and 443)"
[[ -x $BIN ]] || fail "$BIN: no such executable (cargo build --release)"

WORK="$(mktemp -d)"
chmod 0755 "$WORK"
PIDS=()          # background processes started here, stopped by PID on exit
NSPAWN_PID=""    # the container, shut down on exit
MACHINE="ringress-check-$$"
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID" 2>/dev/null || true
    wait_gone "$NSPAWN_PID" 30 || kill -KILL "$NSPAWN_PID" 2>/dev/null || true
  fi
  for pid in "${PIDS[@]}"; do
    wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
  done
  # systemd-nspawn leaves its propagation directory behind when /run is not a tmpfs.
  rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
  rm -rf "$WORK"
}
trap cleanup EXIT

# True once process $1 is gone, false after $2 seconds.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# Waits up to $2 seconds for file $1 to contain the extended regex $3.
wait_for_line() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    grep -Eq -- "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------------------------------------------
step "prerequisites"
need=()
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v ss >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v useradd >/dev/null 2>&1 || need+=(passwd)
[[ -x $PY ]] && "$PY" -c 'import seccomp' 2>/dev/null || need+=(python3-seccomp)
if [[ $RUN_SYSTEMD == 1 ]]; then
  command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
fi
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
ok "systemd $(systemd-analyze --version | awk 'NR == 1 { print $2 }'), $(setpriv --version), kernel $(uname -r)"

# ---------------------------------------------------------------------------------------------------------------------
step "shellcheck"
shellcheck deploy/install.sh scripts/deploy_check.sh
ok "deploy/install.sh scripts/deploy_check.sh"

step "deploy/ringress.yml: ringress check (no warning, no config error)"
install -m 0600 /dev/null "$WORK/provider-token"
printf 'deploy-check-token\n' >"$WORK/provider-token"
sed "s|/etc/ringress/provider-token|$WORK/provider-token|" deploy/ringress.yml >"$WORK/ringress.yml"
code=0
# In an empty network namespace, so the poll fails the same way on every machine (no route to 10.50.0.1).
timeout 30 unshare --net -- "$BIN" check -c "$WORK/ringress.yml" >"$WORK/check.out" 2>"$WORK/check.err" || code=$?
# Exit 2 is a configuration error; 1 is the expected failed poll.
[[ $code -eq 1 ]] || { cat "$WORK/check.err" >&2; fail "ringress check exited $code, expected 1 (failed poll)"; }
if grep ' WARN ' "$WORK/check.err" | grep -v ' WARN provider http: '; then
  fail "deploy/ringress.yml gives warnings (above)"
fi
ok "exit 1 (the poll), no other warning: $(grep '^error:' "$WORK/check.err")"

# ---------------------------------------------------------------------------------------------------------------------
step "deploy/install.sh twice into a scratch root"
ROOT="$WORK/root"
mkdir -p "$ROOT/etc"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$ROOT/etc/shadow"
printf 'root:*::\n' >"$ROOT/etc/gshadow"
chmod 0640 "$ROOT/etc/shadow" "$ROOT/etc/gshadow"
listing() {
  (cd "$ROOT" && find . -printf '%p %y %m %U:%G %s\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
ROOT="$ROOT" deploy/install.sh "$BIN" >"$WORK/install1.out"
listing >"$WORK/listing1"
ROOT="$ROOT" deploy/install.sh "$BIN" >"$WORK/install2.out"
listing >"$WORK/listing2"
diff -u "$WORK/listing1" "$WORK/listing2" || fail "the second run changed the scratch root"
ok "identical after run 1 and run 2 ($(wc -l <"$WORK/listing1") lines)"
uid="$(awk -F: '$1 == "ringress" { print $3 }' "$ROOT/etc/passwd")"
gid="$(awk -F: '$1 == "ringress" { print $3 }' "$ROOT/etc/group")"
[[ -n $uid && -n $gid ]] || fail "no ringress user/group in the scratch root"
expect_mode() { # path type mode owner
  local got
  got="$(cd "$ROOT" && find ".$1" -maxdepth 0 -printf '%y %m %U:%G')"
  [[ $got == "$2 $3 $4" ]] || fail "$1: $got, expected $2 $3 $4"
  ok "$1 $got"
}
expect_mode /etc/ringress d 750 "0:$gid"
expect_mode /etc/ringress/ringress.yml f 640 "0:$gid"
expect_mode /var/lib/ringress d 700 "$uid:$gid"
expect_mode /usr/local/bin/ringress f 755 0:0
expect_mode /etc/systemd/system/ringress.service f 644 0:0
grep -q "^ringress:x:$uid:$gid:.*:/var/lib/ringress:/usr/sbin/nologin$" "$ROOT/etc/passwd" || fail "passwd entry"
ok "user ringress ($uid:$gid), system account, nologin"
printf '# edited by the operator\n' >>"$ROOT/etc/ringress/ringress.yml"
printf '{}\n' >"$WORK/traefik-acme.json"
IMPORT_ACME="$WORK/traefik-acme.json" ROOT="$ROOT" deploy/install.sh "$BIN" >"$WORK/install3.out"
tail -n 1 "$ROOT/etc/ringress/ringress.yml" | grep -q 'edited by the operator' || fail "install.sh overwrote the config"
ok "an edited /etc/ringress/ringress.yml is kept"
expect_mode /var/lib/ringress/acme.json f 600 "$uid:$gid"

# ---------------------------------------------------------------------------------------------------------------------
step "systemd-analyze verify (the installed unit, the installed binary)"
# verify resolves ExecStart= and the unit's dependencies under --root: a copy of the scratch root (the unit and the
# binary exactly as installed) plus this host's unit directory (sysinit.target and the other standard units).
VROOT="$WORK/verify-root"
cp -a "$ROOT" "$VROOT"
mkdir -p "$VROOT/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$VROOT/usr/lib/systemd/"
code=0
systemd-analyze verify --root="$VROOT" ringress.service >"$WORK/verify.out" 2>&1 || code=$?
# verify exits 0 on unknown keys and bad values (it only logs them): any output at all fails the check.
if [[ $code -ne 0 || -s $WORK/verify.out ]]; then
  cat "$WORK/verify.out" >&2
  fail "systemd-analyze verify: exit $code"
fi
ok "no output, exit 0"

step "systemd-analyze security --offline=true"
systemd-analyze security --offline=true --no-pager "$UNIT" >"$WORK/security.out" 2>&1 || true
exposure="$(sed -n 's/.*Overall exposure level for ringress.service: \([0-9.]*\).*/\1/p' "$WORK/security.out")"
[[ -n $exposure ]] || { cat "$WORK/security.out" >&2; fail "no exposure level in the output"; }
grep -E '^✗' "$WORK/security.out" | sed 's/^/    /' || true
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' || fail "exposure $exposure > $MAX_EXPOSURE"
ok "overall exposure $exposure (at most $MAX_EXPOSURE)"

# ---------------------------------------------------------------------------------------------------------------------
step "SystemCallFilter: io_uring and setpriority allowed"
# Expands a group (recursively) or prints a plain system call name.
expand() {
  local entry
  if [[ $1 != @* ]]; then
    printf '%s\n' "$1"
    return
  fi
  systemd-analyze syscall-filter --no-pager "$1" | awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }' |
    while read -r entry; do expand "$entry"; done
}
# systemd's rules: the first SystemCallFilter= decides; an allow list implicitly includes @default; later lines apply
# in order: "~" lines remove from it, plain lines add to it again.
mapfile -t filters < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
if ((${#filters[@]} == 0)) || [[ ${filters[0]} == "~"* ]]; then
  fail "$UNIT: the first SystemCallFilter= must be an allow list"
fi
expand @default | sort -u >"$WORK/allowed"
for line in "${filters[@]}"; do
  deny=false
  if [[ $line == "~"* ]]; then
    deny=true
    line="${line#\~}"
  fi
  : >"$WORK/entries"
  for entry in $line; do expand "$entry" >>"$WORK/entries"; done
  sort -u "$WORK/entries" -o "$WORK/entries"
  if $deny; then
    comm -23 "$WORK/allowed" "$WORK/entries" >"$WORK/next"
  else
    sort -u "$WORK/allowed" "$WORK/entries" >"$WORK/next"
  fi
  mv "$WORK/next" "$WORK/allowed"
done
for call in io_uring_setup io_uring_enter io_uring_register setpriority; do
  grep -qx "$call" "$WORK/allowed" || fail "$call is not allowed by $UNIT's SystemCallFilter="
done
errno_name="$(sed -n 's/^SystemCallErrorNumber=//p' "$UNIT")"
[[ -n $errno_name ]] || fail "the seccomp helper below assumes SystemCallErrorNumber= is set"
ok "io_uring_setup, io_uring_enter, io_uring_register among $(wc -l <"$WORK/allowed") allowed calls; others fail with $errno_name"

# ---------------------------------------------------------------------------------------------------------------------
step "the binary as ExecStart runs it: unprivileged, CAP_NET_BIND_SERVICE only, the unit's seccomp filter"
for port in 80 443; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    ss -ltnp "sport = :$port" >&2
    fail "port $port is in use on this machine: stop what listens there and run again"
  fi
done
admin_port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
RUN="$WORK/run"
mkdir -p "$RUN"
cat >"$RUN/ringress.yml" <<EOF
entryPoints:
  web: { address: "127.0.0.1:80" }
  websecure: { address: "127.0.0.1:443" }
ringress:
  workers: 2
  routes: routes.yml
  admin: { address: "127.0.0.1:$admin_port" }
EOF
printf -- '- id: "localhost"\n  target: "127.0.0.1:%s"\n' "$admin_port" >"$RUN/routes.yml"
chmod 0755 "$RUN" && chmod 0644 "$RUN"/*

# Loads an allow-list seccomp filter (default action: the errno), then execs the command: what systemd does for
# SystemCallFilter= + SystemCallErrorNumber= right before it execs ExecStart= (after dropping user and capabilities).
cat >"$WORK/seccomp_exec.py" <<'EOF'
import errno, os, sys
import seccomp
allowed_file, errno_name, argv = sys.argv[1], sys.argv[2], sys.argv[4:]
f = seccomp.SyscallFilter(seccomp.ERRNO(getattr(errno, errno_name)))
for name in open(allowed_file).read().split():
    try:
        f.add_rule(seccomp.ALLOW, name)
    except Exception:
        pass  # not a system call on this architecture: systemd skips those too
f.load()
os.execv(argv[0], argv)
EOF
# Receives sd_notify datagrams on an abstract socket (no file permissions involved) and appends them to a file.
cat >"$WORK/notify_listen.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode() + "\n--\n")
        out.flush()
EOF

# Starts ringress like the unit would; sets RPID. $1: log file, $2: the allowed system calls, $3: capabilities.
start_ringress() {
  local caps="$3"
  env -i PATH=/usr/bin:/bin NOTIFY_SOCKET="@$MACHINE" \
    setpriv --reuid=nobody --regid=nogroup --init-groups --no-new-privs \
    --inh-caps="-all${caps:+,+$caps}" --ambient-caps="-all${caps:+,+$caps}" --bounding-set="-all${caps:+,+$caps}" \
    -- "$PY" "$WORK/seccomp_exec.py" "$2" "$errno_name" -- "$BIN" run -c "$RUN/ringress.yml" >"$1" 2>&1 &
  RPID=$!
  PIDS+=("$RPID")
}
# Sends SIGTERM and waits (bounded) for the exit code; sets RCODE.
stop_ringress() {
  kill -TERM "$RPID"
  wait_gone "$RPID" 20 || fail "ringress (pid $RPID) still running 20 s after SIGTERM"
  RCODE=0
  wait "$RPID" || RCODE=$?
}

"$PY" "$WORK/notify_listen.py" "$MACHINE" "$WORK/notify.out" &
PIDS+=("$!")
wait_for_line /proc/net/unix 5 " @$MACHINE\$" || fail "the NOTIFY_SOCKET listener did not start"
start_ringress "$WORK/run.log" "$WORK/allowed" net_bind_service
wait_for_line "$WORK/run.log" 20 ' ready: ' || { cat "$WORK/run.log" >&2; fail "no ready line within 20 s"; }
ready="$(grep ' ready: ' "$WORK/run.log")"
printf '  %s\n' "$ready"
[[ $ready == *" on io_uring;"* ]] || fail "the ready line does not say io_uring"
status="$(cat "/proc/$RPID/status")"
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
[[ $(field Uid) == 65534 && $(field CapEff) == 0000000000000400 && $(field CapBnd) == 0000000000000400 ]] ||
  fail "uid $(field Uid), CapEff $(field CapEff), CapBnd $(field CapBnd)"
[[ $(field NoNewPrivs) == 1 && $(field Seccomp) == 2 ]] || fail "NoNewPrivs $(field NoNewPrivs), Seccomp $(field Seccomp)"
ok "uid nobody, CapEff = CapBnd = CAP_NET_BIND_SERVICE, NoNewPrivs 1, Seccomp 2 (filter)"
rings="$(find "/proc/$RPID/fd" -lname 'anon_inode:\[io_uring\]' | wc -l)"
((rings >= 2)) || fail "$rings io_uring instance(s) open, expected one per worker (2)"
ok "$rings io_uring instances open (2 workers)"
code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --resolve localhost:80:127.0.0.1 http://localhost:80/ping)"
[[ $code == 200 ]] || fail "http://localhost:80/ping answered $code"
ok "http://localhost:80/ping: 200 (route file → admin entrypoint)"
code="$(curl -sSk -o /dev/null -w '%{http_code}' --max-time 5 --resolve localhost:443:127.0.0.1 https://localhost:443/ping)"
[[ $code == 200 ]] || fail "https://localhost:443/ping answered $code"
ok "https://localhost:443/ping: 200 over TLS (default certificate)"
wait_for_line "$WORK/notify.out" 5 '^READY=1$' || { cat "$WORK/run.log" >&2; fail "no READY=1 on NOTIFY_SOCKET"; }
ok "NOTIFY_SOCKET got: $(grep -A1 '^READY=1$' "$WORK/notify.out" | paste -sd' ')"
stop_ringress
[[ $RCODE -eq 0 ]] || { tail -n 5 "$WORK/run.log" >&2; fail "exit code $RCODE after SIGTERM"; }
grep -q ' INFO stopped$' "$WORK/run.log" || fail "no 'stopped' line"
wait_for_line "$WORK/notify.out" 5 '^STOPPING=1$' || fail "no STOPPING=1 on NOTIFY_SOCKET"
ok "SIGTERM: STOPPING=1 sent, drained, exit 0"

step "negative controls: the checks above can fail"
start_ringress "$WORK/nocap.log" "$WORK/allowed" ""
wait_gone "$RPID" 20 || fail "ringress without CAP_NET_BIND_SERVICE still running after 20 s"
RCODE=0
wait "$RPID" || RCODE=$?
if [[ $RCODE -eq 0 ]] || ! grep -q 'Permission denied' "$WORK/nocap.log"; then
  cat "$WORK/nocap.log" >&2
  fail "bound :80 without the capability"
fi
ok "without CAP_NET_BIND_SERVICE: exit $RCODE, $(grep -o 'Permission denied.*' "$WORK/nocap.log" | head -n 1)"
grep -vx -e io_uring_setup -e io_uring_enter -e io_uring_register "$WORK/allowed" >"$WORK/allowed-no-uring"
start_ringress "$WORK/nouring.log" "$WORK/allowed-no-uring" net_bind_service
wait_for_line "$WORK/nouring.log" 20 ' ready: ' || { cat "$WORK/nouring.log" >&2; fail "no ready line within 20 s"; }
grep -q ' on epoll (io_uring unavailable);' "$WORK/nouring.log" || fail "io_uring filtered out, yet no epoll in the ready line"
ok "io_uring_* filtered out: $(grep -o 'ready: .*;' "$WORK/nouring.log" | head -n 1)"
stop_ringress

# ---------------------------------------------------------------------------------------------------------------------
step "the installed unit under a real systemd (systemd-nspawn, private network)"
if [[ $RUN_SYSTEMD != 1 ]]; then
  printf '  SKIPPED (DEPLOY_CHECK_SYSTEMD=%s): Type=notify and the sandbox were not exercised under systemd\n' \
    "$RUN_SYSTEMD"
  step "deploy checks passed (without the systemd step)"
  exit 0
fi
# The container boots this host's /usr (read-only) on an empty tmpfs root, with the scratch root's accounts, unit,
# /etc/ringress (the shipped config, unchanged but for the appended comment) and binary bound in.
NS="$WORK/ns"
mkdir -p "$NS/system"
cp "$ROOT/etc/systemd/system/ringress.service" "$NS/system/"
install -m 0640 -o 0 -g "$gid" "$WORK/provider-token" "$ROOT/etc/ringress/provider-token"
systemd-nspawn --quiet --directory=/ --volatile=yes --boot --keep-unit --register=no --machine="$MACHINE" \
  --private-network --bind-ro="$ROOT/etc/passwd:/etc/passwd" --bind-ro="$ROOT/etc/group:/etc/group" \
  --bind-ro="$NS/system:/etc/systemd/system" --bind-ro="$ROOT/etc/ringress:/etc/ringress" \
  --bind-ro="$ROOT/usr/local/bin:/usr/local/bin" -- systemd.firstboot=off systemd.unit=basic.target \
  >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
# The container's PID 1 is the child of systemd-nspawn that runs systemd (an intermediate child exits early on).
leader=""
state=""
for ((i = 0; i < 300; i++)); do
  sleep 0.1
  kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; fail "systemd-nspawn exited"; }
  leader="$(ps --ppid "$NSPAWN_PID" -o pid= | tr -d ' ' | head -n 1)"
  [[ -n $leader && $(readlink "/proc/$leader/exe" 2>/dev/null) == */systemd ]] || continue
  state="$(nsenter --target "$leader" --mount --pid -- systemctl is-active basic.target 2>/dev/null || true)"
  [[ $state == active ]] && break
done
[[ $state == active ]] || { tail -n 20 "$WORK/console.log" >&2; fail "container boot: basic.target '$state'"; }
in_ct() { nsenter --target "$leader" --mount --pid --net -- "$@"; }
ok "container booted to basic.target, systemd $(in_ct systemctl --version | awk 'NR == 1 { print $2 }') as PID 1"

# The fake control plane at the production endpoint (10.50.0.1:8081, added to the container's loopback), checking the
# bearer token; two upstreams: one answers, one never does (an in-flight request for the drain).
cat >"$WORK/fake_cp.py" <<'EOF'
import json, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
token = open(sys.argv[1]).read().strip()
dynamic = {"http": {
    "routers": {
        "app": {"rule": "Host(`app.test`)", "service": "app", "tls": {"certResolver": "letsencrypt"}},
        "slow": {"rule": "Host(`slow.test`)", "service": "slow", "tls": {"certResolver": "letsencrypt"}},
    },
    "services": {
        "app": {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:9001"}]}},
        "slow": {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:9002"}]}},
    },
}}
class ControlPlane(BaseHTTPRequestHandler):
    def do_GET(self):
        good = self.headers.get("Authorization") == "Bearer " + token
        body = json.dumps(dynamic).encode() if good else b"unauthorized"
        self.send_response(200 if good else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class App(ControlPlane):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"hello\n")
def silent():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 9002))
    s.listen()
    held = []
    while True:
        held.append(s.accept()[0])
threading.Thread(target=silent, daemon=True).start()
threading.Thread(target=ThreadingHTTPServer(("127.0.0.1", 9001), App).serve_forever, daemon=True).start()
threading.Thread(target=ThreadingHTTPServer(("10.50.0.1", 8081), ControlPlane).serve_forever, daemon=True).start()
time.sleep(300)
EOF
nsenter --target "$leader" --net -- ip link set lo up
nsenter --target "$leader" --net -- ip addr add 10.50.0.1/32 dev lo
nsenter --target "$leader" --net -- "$PY" "$WORK/fake_cp.py" "$WORK/provider-token" &
PIDS+=("$!")

timeout 60 nsenter --target "$leader" --mount --pid -- systemctl start ringress ||
  { in_ct journalctl -u ringress --no-pager | tail -n 20 >&2; fail "systemctl start ringress"; }
show() { in_ct systemctl show ringress -p "$1" --value; }
[[ $(show ActiveState)/$(show SubState) == active/running ]] || fail "ringress is $(show ActiveState)/$(show SubState)"
ok "systemctl start returned (Type=notify: after READY=1): active/running, Status: \"$(show StatusText)\""
[[ $(show StatusText) == *" on io_uring" ]] || fail "StatusText does not say io_uring"
main="$(show MainPID)"
status="$(in_ct cat "/proc/$main/status")"
[[ $(field Uid) == "$uid" && $(field CapEff) == 0000000000000400 && $(field CapBnd) == 0000000000000400 &&
  $(field CapAmb) == 0000000000000400 && $(field NoNewPrivs) == 1 && $(field Seccomp) == 2 ]] ||
  fail "MainPID $main: $(grep -E '^(Uid|Cap|NoNew|Seccomp)' <<<"$status" | paste -sd' ')"
ok "MainPID $main: uid ringress, CapEff/CapBnd/CapAmb = CAP_NET_BIND_SERVICE, NoNewPrivs 1, Seccomp 2"
nofile="$(in_ct cat "/proc/$main/limits" | awk '/^Max open files/ { print $4 }')"
# systemd lowers LimitNOFILE= to the closest limit it may set: here, the hard limit this script runs under (raising
# it needs CAP_SYS_RESOURCE, which a container may lack). On a host, PID 1 has it.
configured="$(sed -n 's/^LimitNOFILE=//p' "$UNIT")"
((configured >= 65535)) || fail "$UNIT: LimitNOFILE=$configured, expected >= 65535"
possible="$(ulimit -Hn)"
((possible < configured)) || possible="$configured"
((nofile >= possible)) || fail "MainPID $main: open files limit $nofile, expected $possible"
if ((nofile < configured)); then
  ok "MainPID $main: open files limit $nofile: LimitNOFILE=$configured clamped to this machine's hard limit $possible"
else
  ok "MainPID $main: open files limit $nofile (LimitNOFILE=$configured)"
fi
rings="$(in_ct find "/proc/$main/fd" -lname 'anon_inode:\[io_uring\]' | wc -l)"
((rings >= 1)) || fail "no io_uring instance open in the service"
ok "$rings io_uring instance(s) open in the service"
in_ct journalctl -u ringress --no-pager -o cat >"$WORK/journal.out"
grep ' ready: ' "$WORK/journal.out" | sed 's/^/    /'
for ((i = 0; i < 200; i++)); do
  in_ct journalctl -u ringress --no-pager -o cat >"$WORK/journal.out"
  grep -q 'Configuration received from provider http: 2 router(s), 0 disabled' "$WORK/journal.out" && break
  sleep 0.1
done
grep -q 'Configuration received from provider http: 2 router(s), 0 disabled' "$WORK/journal.out" ||
  { cat "$WORK/journal.out" >&2; fail "no configuration from the fake control plane within 20 s"; }
ok "the token file reached the control plane: $(grep -o 'Configuration received.*' "$WORK/journal.out" | tail -n 1)"
code="$(in_ct curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 -H 'Host: app.test' http://127.0.0.1/x)"
[[ $code == "301 https://app.test/x" ]] || fail "http://app.test/x answered $code"
ok "http://app.test/x: $code (web redirects to websecure)"
body="$(in_ct curl -sSk --max-time 5 --resolve app.test:443:127.0.0.1 https://app.test/)"
[[ $body == hello ]] || fail "https://app.test/ answered $body"
ok "https://app.test/: forwarded to the upstream over TLS"
acme_ls=""
for ((i = 0; i < 300; i++)); do
  acme_ls="$(in_ct find /var/lib/ringress -maxdepth 1 -name acme.json -printf '%m %u %s' 2>/dev/null || true)"
  [[ -n $acme_ls ]] && break
  sleep 0.1
done
[[ $acme_ls == "600 ringress "* ]] || { in_ct journalctl -u ringress --no-pager -o cat >&2; fail "acme.json: '$acme_ls'"; }
ok "/var/lib/ringress/acme.json written by the service under ProtectSystem=strict: mode/owner/size $acme_ls"

# STOPPING=1: a signal sent around systemd (no stop job) moves the unit to deactivating only if the service says so.
in_ct curl -sSk --max-time 30 --resolve slow.test:443:127.0.0.1 https://slow.test/ >/dev/null 2>&1 &
PIDS+=("$!")
sleep 1
in_ct systemctl kill --kill-whom=main --signal=SIGTERM ringress
sub=""
for ((i = 0; i < 30; i++)); do
  sub="$(show ActiveState)/$(show SubState)"
  [[ $sub == deactivating/* ]] && break
  sleep 0.1
done
[[ $sub == deactivating/* ]] || fail "after SIGTERM the unit is $sub, not deactivating: STOPPING=1 not seen"
ok "SIGTERM with a request in flight: unit $sub (systemd got STOPPING=1)"
for ((i = 0; i < 300; i++)); do
  [[ $(show ActiveState) == inactive ]] && break
  sleep 0.1
done
[[ $(show ActiveState)/$(show Result)/$(show ExecMainStatus) == inactive/success/0 ]] ||
  fail "after the drain: $(show ActiveState)/$(show Result)/$(show ExecMainStatus)"
ok "drained and stopped: inactive, Result=success, exit 0"
in_ct journalctl -u ringress --no-pager -o cat | grep -E 'received SIGTERM|draining|stopped' | sed 's/^/    /'

step "deploy checks passed"
