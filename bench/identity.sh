#!/usr/bin/env bash
# The identity service against real Keystone 30 (PyPI, in .venv-keystone, under gunicorn
# with 2 workers and the in-memory cache, as measured in the reference's §9), both on
# loopback with the same data (the bootstrap admin plus $PROJECTS projects), under the same
# bounded load: wrk, one thread, $CONNECTIONS connections, $DURATION s per phase after a
# 2 s warm-up, once with keep-alive and once with a new TCP connection per request.
# Phases: version document, token validation (one admin token validating another), an authenticated list (GET /v3/projects),
# password login (project-scoped), token rescope. RSS idle, after the load, and Nimbus's
# peak. Run as root or not, after `make server` and `make bench-tools`.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${NIMBUS_SERVER:-.build-server/release/nimbus-server}
venv=${KEYSTONE_VENV:-.venv-keystone}
duration=${DURATION:-10}
connections=${CONNECTIONS:-4}
projects=${PROJECTS:-20}
modes=${MODES:-keepalive close}
work=$(mktemp -d /tmp/nimbus-bench-identity.XXXXXX)
nimbus_url=http://127.0.0.1:5101
keystone_url=http://127.0.0.1:5102
password=bench-secret
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

# RSS in MiB of a process and its children (Keystone: gunicorn master + workers).
rss() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  echo "$((total / 1024))"
}

start_nimbus() {
  mkdir -p "$work/nimbus"
  cat > "$work/nimbus/spec.json" <<JSON
{"admin_password": "$password", "region": "RegionOne",
 "catalog": [{"type": "identity", "name": "keystone",
   "urls": {"public": "$nimbus_url/v3", "internal": "$nimbus_url/v3", "admin": "$nimbus_url/v3"}}]}
JSON
  start_identity "$work/nimbus" 5101 "[password]" "scrypt_log_n = 14"
  nimbus_pid=${pids[-1]}
}

start_keystone() {
  local dir=$work/keystone
  mkdir -p "$dir/fernet-keys" "$dir/credential-keys"
  cat > "$dir/keystone.conf" <<CONF
[DEFAULT]
log_file = $dir/keystone.log
[database]
connection = sqlite:///$dir/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[cache]
enabled = true
backend = dogpile.cache.memory
CONF
  local manage=("$venv/bin/keystone-manage" --config-file "$dir/keystone.conf")
  "${manage[@]}" db_sync
  "${manage[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${manage[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${manage[@]}" bootstrap --bootstrap-password "$password" --bootstrap-region-id RegionOne \
    --bootstrap-public-url "$keystone_url/v3" --bootstrap-internal-url "$keystone_url/v3" \
    --bootstrap-admin-url "$keystone_url/v3"
  # keystone's oslo.config parses sys.argv and rejects gunicorn's: the shim clears it.
  cat > "$dir/keystone_shim.py" <<PY
import os, sys
sys.argv = sys.argv[:1]
os.environ["OS_KEYSTONE_CONFIG_DIR"] = "$dir"
os.environ["OS_KEYSTONE_CONFIG_FILES"] = "keystone.conf"
from keystone.wsgi.api import application
PY
  "$venv/bin/gunicorn" --chdir "$dir" -w 2 -b 127.0.0.1:5102 --log-level warning keystone_shim:application \
    2>"$dir/gunicorn.log" &
  pids+=($!)
  keystone_pid=$!
  wait_for "$keystone_url/v3"
}

password_body() { # project-scoped password authentication
  cat <<JSON
{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
  "domain": {"name": "Default"}, "password": "$password"}}},
  "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
JSON
}

token_for() { # url → a project-scoped admin token
  password_body > "$work/password.json"
  curl -sf -D - -o /dev/null -H 'Content-Type: application/json' --data @"$work/password.json" \
    "$1/v3/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}

seed_projects() { # url token
  for i in $(seq "$projects"); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' -H "X-Auth-Token: $2" \
      --data "{\"project\": {\"name\": \"bench-$i\", \"domain_id\": \"default\", \"description\": \"project $i\"}}" \
      "$1/v3/projects"
  done
}

# load name url path [METHOD=… BODY_FILE=… AUTH_TOKEN=… SUBJECT_TOKEN=… in the environment]
load() {
  local close=0
  [ "$mode" = close ] && close=1
  CLOSE=$close wrk -t1 -c"$connections" -d2s -s bench/identity/request.lua "$2$3" >/dev/null
  local line
  line=$(CLOSE=$close wrk -t1 -c"$connections" -d"${duration}s" -s bench/identity/request.lua "$2$3" | grep '^RESULT')
  echo "$1 $mode ${line#RESULT }" | tee -a "$work/results"
}

phases() { # name url token other-token (a service validates a user's token with its own)
  METHOD=GET load "$1 version" "$2" /v3
  METHOD=GET AUTH_TOKEN=$3 SUBJECT_TOKEN=$4 load "$1 validate" "$2" /v3/auth/tokens
  METHOD=GET AUTH_TOKEN=$3 load "$1 list" "$2" /v3/projects
  password_body > "$work/password.json"
  METHOD=POST BODY_FILE=$work/password.json load "$1 password" "$2" /v3/auth/tokens
  cat > "$work/rescope.json" <<JSON
{"auth": {"identity": {"methods": ["token"], "token": {"id": "$3"}},
  "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
JSON
  METHOD=POST BODY_FILE=$work/rescope.json load "$1 rescope" "$2" /v3/auth/tokens
}

[ -x "$server" ] || { echo "no $server: run make server" >&2; exit 1; }
[ -x "$venv/bin/keystone-manage" ] || { echo "no Keystone in $venv: run make bench-tools" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: run make bench-tools" >&2; exit 1; }

start_nimbus
start_keystone
sleep 2
echo "idle RSS: nimbus $(rss "$nimbus_pid") MiB, keystone $(rss "$keystone_pid") MiB"
nimbus_token=$(token_for "$nimbus_url")
nimbus_subject=$(token_for "$nimbus_url")
keystone_token=$(token_for "$keystone_url")
keystone_subject=$(token_for "$keystone_url")
[ -n "$nimbus_token" ] && [ -n "$nimbus_subject" ] && [ -n "$keystone_token" ] && [ -n "$keystone_subject" ] ||
  { echo "could not get admin tokens" >&2; exit 1; }
seed_projects "$nimbus_url" "$nimbus_token"
seed_projects "$keystone_url" "$keystone_token"

for mode in $modes; do
  phases nimbus "$nimbus_url" "$nimbus_token" "$nimbus_subject"
  phases keystone "$keystone_url" "$keystone_token" "$keystone_subject"
done
sleep 2
echo "loaded RSS: nimbus $(rss "$nimbus_pid") MiB (peak $(($(awk '/^VmHWM/ {print $2}' "/proc/$nimbus_pid/status") / 1024)) MiB), keystone $(rss "$keystone_pid") MiB"

echo
echo "| phase | connection | Nimbus req/s | p50 / p99 ms | Keystone req/s | p50 / p99 ms | Nimbus / Keystone |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for mode in $modes; do
  for phase in version validate list password rescope; do
    n=$(grep "^nimbus $phase $mode " "$work/results")
    k=$(grep "^keystone $phase $mode " "$work/results")
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
    echo "| $phase | $mode | $(field rps "$n") | $(field p50 "$n") / $(field p99 "$n") | $(field rps "$k") | $(field p50 "$k") / $(field p99 "$k") | $(awk -v a="$(field rps "$n")" -v b="$(field rps "$k")" 'BEGIN {printf "%.1f×", a / b}') |"
  done
done
if grep -q 'errors=[1-9]' "$work/results"; then
  echo "some requests failed:" >&2
  grep 'errors=[1-9]' "$work/results" >&2
  exit 1
fi
