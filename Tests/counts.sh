#!/bin/sh
# Counts Swift Testing runs from their own lines and ends with one line, alone:
#   N passed, M failed, K skipped
#   Tests/counts.sh LOG...   (logs of `swift test … 2>&1`, then a line "swift test exited with status N")
# A test failed when it printed `✘ Test … failed after …`, was skipped when it printed
# `➜ Test … skipped…`, and passed otherwise (the `Test run with N tests` line counts them
# all). A log without that line (the build failed, the runner crashed) or a runner that
# exited non-zero with no failed test counts one failure more. With CI=true a skipped test
# counts as failed: CI installs every tool and sets NIMBUS_INTEGRATION, so nothing may skip.
# Exits 1 when anything failed.
set -u
export LC_ALL=C
passed=0 failed=0 skipped=0
clean=$(mktemp) || exit 1
trap 'rm -f "$clean"' EXIT
for log in "$@"; do
  name=$(basename "$log" .log)
  if [ ! -f "$log" ]; then
    echo "$name: no log: the build failed or the tests did not run"
    failed=$((failed + 1))
    continue
  fi
  sed 's/\x1b\[[0-9;]*m//g' "$log" > "$clean"
  total=$(sed -n 's/^[^ ]* Test run with \([0-9][0-9]*\) tests\{0,1\} in .*/\1/p' "$clean" | tail -n 1)
  status=$(sed -n 's/.*swift test exited with status \([0-9][0-9]*\)$/\1/p' "$clean" | tail -n 1)
  f=$(grep -E '^[^ ]+ Test .* failed after [0-9.]+ seconds( with [0-9]+ issues?( \(including [0-9]+ known issues?\))?)?\.$' "$clean" | grep -vc '^[^ ]* Test run with ')
  s=$(grep -cE '^[^ ]+ Test .* skipped(\.|: .*)$' "$clean")
  extra=0
  if [ -z "$total" ]; then
    echo "$name: no 'Test run with' line${status:+ (swift test exited with status $status)}: the build failed or the runner crashed; counted: the tests that printed their end"
    p=$(grep -E '^[^ ]+ Test .* passed after [0-9.]+ seconds( with [0-9]+ known issues?)?\.$' "$clean" | grep -vc '^[^ ]* Test run with ')
    total=$((p + f + s)) extra=1
  elif [ "${status:-0}" != 0 ] && [ "$f" = 0 ]; then
    echo "$name: swift test exited with status $status but no test failed"
    extra=1
  fi
  grep -E '^[^ ]+ Test .* failed after [0-9.]+ seconds( with [0-9]+ issues?( \(including [0-9]+ known issues?\))?)?\.$' "$clean" | grep -v '^[^ ]* Test run with ' | sed 's/^/  /'
  grep -E '^[^ ]+ Test .* skipped(\.|: .*)$' "$clean" | sed 's/^/  /'
  [ $# -gt 1 ] && echo "$name: $((total - f - s)) passed, $((f + extra)) failed, $s skipped"
  passed=$((passed + total - f - s)) failed=$((failed + f + extra)) skipped=$((skipped + s))
done
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "CI=true: the $skipped skipped tests count as failed (install the tools, set NIMBUS_INTEGRATION=1)"
  failed=$((failed + skipped)) skipped=0
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
