#!/usr/bin/env bash
# Validate + plan of a 100-host answer file, each as a whole process (release build).
# Target (issue 2): under 50 ms. Usage: bench/validate-plan.sh  (after: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/nimbus
[ -x "$bin" ] || swift build -c release --product nimbus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
computes=$(python3 -c 'print(",".join(f"10.0.{i//256}.{i%256}" for i in range(3, 101)))')
"$bin" gen-answer-file "$work/answers.txt" --install-hosts "10.0.0.1,$computes" >/dev/null
sed -i -E 's/^CONFIG_NETWORK_HOSTS=.*/CONFIG_NETWORK_HOSTS=10.0.0.2/' "$work/answers.txt"
hosts=$("$bin" plan --json "$work/answers.txt" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hosts"]))')
echo "answer file with $hosts hosts"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 50 \
    "$bin validate $work/answers.txt" \
    "$bin plan $work/answers.txt" \
    "$bin plan --json $work/answers.txt"
else
  for cmd in validate plan; do
    start=$(date +%s%N); for _ in $(seq 20); do "$bin" $cmd "$work/answers.txt" >/dev/null 2>&1; done
    echo "$cmd: $(( ($(date +%s%N) - start) / 20000000 )) ms mean of 20"
  done
fi
