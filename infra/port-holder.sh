#!/usr/bin/env bash
# Which of the given local ports are taken, and by whom (another Switchboard clone: its folder and
# the command that stops it). One line per taken port, "<port> <who>"; nothing when all are free.
#   infra/port-holder.sh 8080 8081 ...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
for port in "$@"; do
  port_open "$port" && echo "$port $(port_holder "$port")"
done
exit 0
