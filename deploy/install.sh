#!/usr/bin/env bash
# Installs ringress on a Debian host as a systemd service. Idempotent: running it again leaves the same result (the
# binary and the unit are replaced when they changed; the config, the token and acme.json are never overwritten).
#
#   deploy/install.sh target/release/ringress              # as root, on the host
#   ROOT=/tmp/scratch deploy/install.sh target/release/ringress   # into a scratch root (tests, image builds)
#   IMPORT_ACME=/etc/traefik/acme/acme.json deploy/install.sh target/release/ringress
#                                # also copy Traefik's acme.json to /var/lib/ringress/acme.json if none is there yet
#
# With ROOT set, the user and group go into $ROOT/etc/{passwd,group,shadow,gshadow} (useradd --prefix), which must
# exist. Nothing is started: the next steps are printed at the end.
set -euo pipefail

ROOT="${ROOT:-/}"
ROOT="${ROOT%/}"
IMPORT_ACME="${IMPORT_ACME:-}"
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:-$here/../target/release/ringress}"

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf '  %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || die "run as root (it creates a system user and root-owned files)"
[[ -f $binary && -x $binary ]] || die "$binary: not an executable file (build it: cargo build --release)"
[[ -z $ROOT || -d $ROOT ]] || die "ROOT=$ROOT: not a directory"
if [[ -n $ROOT ]]; then
  for f in passwd group shadow gshadow; do
    [[ -f $ROOT/etc/$f ]] || die "ROOT=$ROOT: $ROOT/etc/$f is missing (a scratch root needs the account files)"
  done
fi

# --- the system user and group --------------------------------------------------------------------------------------
# useradd/groupadd --prefix edit the account files under $ROOT directly (no chroot); an empty prefix is the host.
prefix=()
[[ -n $ROOT ]] && prefix=(--prefix "$ROOT")
# The numeric id of a name in $ROOT's account files (the host's NSS would answer for the host, not for $ROOT).
account_id() { # file name
  awk -F: -v n="$2" '$1 == n { print $3; found = 1 } END { exit !found }' "$ROOT/etc/$1"
}
if account_id group ringress >/dev/null; then
  say "group ringress exists"
else
  groupadd --system "${prefix[@]}" ringress
  say "created group ringress"
fi
if account_id passwd ringress >/dev/null; then
  say "user ringress exists"
else
  useradd --system "${prefix[@]}" --gid ringress --home-dir /var/lib/ringress --no-create-home \
    --shell /usr/sbin/nologin --comment "ringress edge proxy" ringress
  say "created user ringress"
fi
uid="$(account_id passwd ringress)"
gid="$(account_id group ringress)"

# --- directories ----------------------------------------------------------------------------------------------------
ensure_dir() { # path mode owner group
  install -d -m "$2" -o "$3" -g "$4" "$ROOT$1"
  # install -d leaves an existing directory's mode and owner alone: set them every time.
  chmod "$2" "$ROOT$1"
  chown "$3:$4" "$ROOT$1"
}
ensure_dir /etc/ringress 0750 0 "$gid"
ensure_dir /var/lib/ringress 0700 "$uid" "$gid"
ensure_dir /usr/local/bin 0755 0 0
ensure_dir /usr/local/share/doc/ringress 0755 0 0
ensure_dir /etc/systemd/system 0755 0 0

# --- files ----------------------------------------------------------------------------------------------------------
# Replaces the file only when its content differs (an unchanged file keeps its timestamps); always sets mode and owner.
put() { # source destination mode owner group
  local dest="$ROOT$2"
  if [[ -f $dest ]] && cmp -s "$1" "$dest"; then
    chmod "$3" "$dest"
    chown "$4:$5" "$dest"
    say "$2 unchanged"
  else
    # install(1) writes a new inode: a running binary is replaced safely (no "Text file busy").
    install -m "$3" -o "$4" -g "$5" "$1" "$dest"
    say "installed $2"
  fi
}
put "$binary" /usr/local/bin/ringress 0755 0 0
put "$here/ringress.service" /etc/systemd/system/ringress.service 0644 0 0
put "$here/MIGRATING.md" /usr/local/share/doc/ringress/MIGRATING.md 0644 0 0
put "$here/../README.md" /usr/local/share/doc/ringress/README.md 0644 0 0
put "$here/ringress.yml" /usr/local/share/doc/ringress/ringress.yml.example 0644 0 0

# The operator's config: created once, never overwritten.
if [[ -e $ROOT/etc/ringress/ringress.yml ]]; then
  say "/etc/ringress/ringress.yml exists: kept as it is (the shipped example is in /usr/local/share/doc/ringress)"
else
  install -m 0640 -o 0 -g "$gid" "$here/ringress.yml" "$ROOT/etc/ringress/ringress.yml"
  say "installed /etc/ringress/ringress.yml (edit the email and the endpoint)"
fi

# acme.json: ringress creates it (0600) on first start. An existing one must belong to ringress and stay private.
acme="$ROOT/var/lib/ringress/acme.json"
if [[ -n $IMPORT_ACME && ! -e $acme ]]; then
  [[ -f $IMPORT_ACME ]] || die "IMPORT_ACME=$IMPORT_ACME: no such file"
  install -m 0600 -o "$uid" -g "$gid" "$IMPORT_ACME" "$acme"
  say "copied $IMPORT_ACME to /var/lib/ringress/acme.json"
elif [[ -n $IMPORT_ACME ]]; then
  say "/var/lib/ringress/acme.json exists: IMPORT_ACME not copied over it"
fi
if [[ -f $acme ]]; then
  chmod 0600 "$acme"
  chown "$uid:$gid" "$acme"
fi

token_state="missing: ringress will not start without it"
[[ -f $ROOT/etc/ringress/provider-token ]] && token_state="present"
cat <<EOF

ringress is installed${ROOT:+ under $ROOT}. Next steps:
  1. Edit /etc/ringress/ringress.yml (ACME email, provider endpoint).
  2. The control plane's token goes in /etc/ringress/provider-token ($token_state), readable by ringress only:
       install -m 0640 -o root -g ringress /dev/stdin /etc/ringress/provider-token   # paste the token, then Ctrl-D
  3. Validate (polls the provider once; exit 2 = config error, 1 = provider unreachable):
       runuser -u ringress -- /usr/local/bin/ringress check -c /etc/ringress/ringress.yml
  4. Coming from Traefik: read /usr/local/share/doc/ringress/MIGRATING.md first (ports 80/443, acme.json).
  5. Start it:
       systemctl daemon-reload && systemctl enable --now ringress
  6. Check it:
       systemctl status ringress          # "active (running)", Status: "serving: N worker(s) on io_uring"
       journalctl -u ringress -f          # the ready line, "Configuration received from provider http: …"
       curl -s http://127.0.0.1:8082/ping # the admin entrypoint
EOF
