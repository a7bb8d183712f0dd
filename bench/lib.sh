# Shell functions the benchmarks share (sourced).

# Waits up to 30 s for URL to answer 2xx; exits the benchmark otherwise.
wait_for() { # url
  for _ in $(seq 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  exit 1
}
