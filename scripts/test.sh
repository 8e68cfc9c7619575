#!/usr/bin/env bash
# The whole ringress test suite, runnable on a fresh Debian machine with a Rust toolchain (rustup):
# installs what the tests need, then runs format and lint checks, unit and integration tests (against the release
# binary, built once), checks deploy/ (scripts/deploy_check.sh), rehearses the production topology in network
# namespaces over WireGuard (deploy/rehearsal/run.sh), compiles the benchmarks, and runs each fuzz target for a bounded
# time.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
step() { printf '\n==> %s\n' "$*"; }

step "installing test prerequisites"
missing=()
for tool in curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# Debian's pebble package ships both pebble and pebble-challtestsrv (the ACME tests use a real CA on loopback).
command -v pebble >/dev/null 2>&1 && command -v pebble-challtestsrv >/dev/null 2>&1 || missing+=("pebble")
# The dashboard test renders the admin page in headless Chromium.
command -v chromium >/dev/null 2>&1 || missing+=("chromium")
if ((${#missing[@]})); then
  # No recommends: they would pull in kernel images and desktop packages the tests never use.
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    sudo apt-get update -qq &&
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

step "tests (release build, shared by every stage)"
cargo build --release --locked --bins
cargo test --release --locked

step "deploy: unit, install script, the release binary under the unit's sandbox"
# Needs root (users, ports 80/443, a systemd-nspawn container); installs its own prerequisites.
deploy_check=(scripts/deploy_check.sh "${CARGO_TARGET_DIR:-target}/release/ringress")
if [[ $(id -u) -eq 0 ]]; then "${deploy_check[@]}"; else sudo "${deploy_check[@]}"; fi

step "deploy rehearsal: namespaces, real WireGuard, pebble, six operational scenarios"
# Needs root (network namespaces, TUN, ports 80/443 inside a namespace); installs its own prerequisites.
rehearsal=(deploy/rehearsal/run.sh "${CARGO_TARGET_DIR:-target}/release/ringress")
if [[ $(id -u) -eq 0 ]]; then "${rehearsal[@]}"; else sudo "${rehearsal[@]}"; fi

step "benchmarks compile"
cargo bench --locked --no-run

step "fuzz targets, ${FUZZ_SECONDS}s each"
for target in $(cd fuzz && ls fuzz_targets | sed 's/\.rs$//'); do
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 2>&1 | tail -n 3)
done

step "all checks passed"
