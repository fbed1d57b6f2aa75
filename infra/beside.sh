#!/usr/bin/env bash
# Runs two commands at once and fails if either fails: `make test` runs the short chaos run
# (a Switchboard of its own, mostly waiting on restarts) beside the browser tests, so the suite
# stays near 17 minutes instead of 21. The first command's output goes to a log, shown at the end.
#   infra/beside.sh <log file> <background command> -- <foreground command>
set -uo pipefail
log_file=$1; shift
background=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do background+=("$1"); shift; done
shift
mkdir -p "$(dirname "$log_file")"
"${background[@]}" >"$log_file" 2>&1 &
background_pid=$!
"$@"
foreground_rc=$?
wait "$background_pid"
background_rc=$?
echo "--- ${background[*]} (beside the above; whole log: $log_file)"
if [ "$background_rc" -eq 0 ]; then tail -n 40 "$log_file"; else tail -n 200 "$log_file"; fi
echo "--- exit codes: beside $background_rc, foreground $foreground_rc"
[ "$background_rc" -eq 0 ] && [ "$foreground_rc" -eq 0 ]
