#!/usr/bin/env bash
# `nimbus deploy` of an all-in-one cloud onto a fresh sandbox node: host preparation, the
# nimbus-server upload, the identity service installed, started, health-checked and
# bootstrapped, keystonerc_admin written and `nimbus status` run at the end; then a re-run
# with nothing to change, and `nimbus status` alone. Median of $RUNS (default 3). The
# server binary is built beforehand (`make server`; the first compile is not timed). Run as
# root after `make release server`; uses the sandbox "bench" and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
export NIMBUS_SERVER_BINARY=${NIMBUS_SERVER_BINARY:-$PWD/.build-server/release/nimbus-server}
runs=${RUNS:-3}
state=/var/lib/nimbus/sandbox/bench
work=$(mktemp -d /tmp/nimbus-bench-cloud.XXXXXX)
net=(--name bench --management-network 10.246.0.0/24 --provider-network 10.247.0.0/24 --answer-file "$work/answers.txt")
[ -x "$NIMBUS_SERVER_BINARY" ] || { echo "no $NIMBUS_SERVER_BINARY: run make server" >&2; exit 1; }

fresh() { # new node disk from the cached base (not timed)
  "$bin" sandbox down --name bench >/dev/null 2>&1 || true
  rm -rf "$state" "$work/answers.txt"
  "$bin" sandbox up --nodes 1 "${net[@]}" >/dev/null
}

timed() { # command… → milliseconds; fails loudly
  local start end
  start=$(date +%s%N)
  "$@" >"$work/out" 2>&1 || { echo "failed: $*" >&2; tail -20 "$work/out" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

firsts=() reruns=() statuses=()
for _ in $(seq "$runs"); do
  fresh
  firsts+=("$(timed "$bin" deploy "$work/answers.txt" --log-root "$work/logs")")
  reruns+=("$(timed "$bin" deploy "$work/answers.txt" --log-root "$work/logs")")
  grep -q "0 changed" "$work/out" || { echo "the re-run changed something:" >&2; cat "$work/out" >&2; exit 1; }
  statuses+=("$(timed "$bin" status "$work/answers.txt" --log-root "$work/logs")")
done
echo "all-in-one deploy onto a fresh node (median of $runs, ms): first $(median "${firsts[@]}")" \
  "(runs: ${firsts[*]}), re-run $(median "${reruns[@]}"), nimbus status $(median "${statuses[@]}")"
"$bin" sandbox down --name bench >/dev/null
rm -rf "$state" "$work"
