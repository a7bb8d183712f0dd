# Shell functions the benchmarks share (sourced).

# Waits up to 30 s for URL to answer 2xx; exits the benchmark otherwise.
wait_for() { # url
  for _ in $(seq 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  exit 1
}

# Nimbus's identity service in DIR on 127.0.0.1:PORT: its config (with any further config
# lines given), keys, the bootstrap of DIR/spec.json (written before), then serving in the
# background (pid appended to pids; log DIR/identity.log). Returns once it answers.
start_identity() { # dir port [config lines…]
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  {
    printf '[DEFAULT]\nbind = 127.0.0.1:%s\nstate_dir = %s/state\npublic_url = http://127.0.0.1:%s\n' \
      "$port" "$dir" "$port"
    printf '[token]\nexpiration = 3600\nkey_dir = %s/keys\n' "$dir"
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
  } >"$dir/identity.conf"
  "$server" identity rotate-keys --config "$dir/identity.conf" >/dev/null
  "$server" identity bootstrap --config "$dir/identity.conf" --spec "$dir/spec.json" >/dev/null
  "$server" identity serve --config "$dir/identity.conf" 2>"$dir/identity.log" &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/v3"
}
