#!/usr/bin/env bash
# The one test command: installs dependencies, builds, runs every test
# (lit + FileCheck suite and the GoogleTest unit tests, through check-qtrain)
# and ends with a "N passed, N failed" line.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTRAIN_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh" || exit 1
"$root/scripts/build.sh" || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/scripts/build.sh" check-qtrain 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
