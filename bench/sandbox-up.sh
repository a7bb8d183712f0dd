#!/usr/bin/env bash
# Time `nimbus sandbox up` of 1, 4 and 8 nodes with a cached base (until every node's sshd
# answers), and memory per idle node. Run as root; uses the sandbox name "bench" on its own
# networks and removes it afterwards (the cached base stays).
# Prototype figures to beat (bench/RESULTS.md): 1.8 s, 2.6 s, 4.5 s; 18 MiB per idle node at 4.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
[ -x "$bin" ] || swift build -c release --product nimbus
net=(--name bench --management-network 10.246.0.0/24 --provider-network 10.247.0.0/24 --answer-file /tmp/bench-answers.txt)
runs=${RUNS:-3}
# Make sure the base is built (not timed). Between runs the bench sandbox is taken down
# and its node disks deleted by hand, so every run boots fresh nodes from the cached base
# (down --purge would also delete the base when no other sandbox is left).
fresh() { "$bin" sandbox down --name bench >/dev/null; rm -rf /var/lib/nimbus/sandbox/bench; }
"$bin" sandbox up --nodes 1 "${net[@]}" >/dev/null
fresh

pss_of_node() { # KiB (proportional set size): the node's own processes (those whose root
  # mount is the node's overlay), its systemd-nspawn and its supervisor
  local dir="/var/lib/nimbus/sandbox/bench/nodes/$1" total=0 f pid
  local pids="$(cat "$dir/nspawn.pid" "$dir/supervisor.pid" 2>/dev/null)"
  for f in /proc/[0-9]*/mountinfo; do
    awk -v u="upperdir=$dir/upper," '$5 == "/" && index($0, u) { found = 1 } END { exit !found }' "$f" 2>/dev/null || continue
    pid=${f#/proc/}; pids="$pids ${pid%/mountinfo}"
  done
  for pid in $pids; do
    total=$(( total + $(awk '/^Pss:/{print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0) ))
  done
  echo $total
}
available() { awk '/^MemAvailable:/{print $2}' /proc/meminfo; }

for nodes in 1 4 8; do
  times=()
  for run in $(seq "$runs"); do
    rm -f /tmp/bench-answers.txt
    before=$(available)
    start=$(date +%s%N)
    "$bin" sandbox up --nodes "$nodes" "${net[@]}" >/dev/null
    times+=("$(( ($(date +%s%N) - start) / 1000000 ))")
    if [ "$run" = "$runs" ]; then
      sleep 10 # idle
      total=0
      for i in $(seq "$nodes"); do total=$(( total + $(pss_of_node node$i) )); done
      echo "nodes=$nodes idle memory per node: $(( total / nodes / 1024 )) MiB PSS (node processes + nspawn + supervisor); MemAvailable drop $(( (before - $(available)) / nodes / 1024 )) MiB"
    fi
    fresh
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  echo "nodes=$nodes up (ms, sorted): $sorted"
done
