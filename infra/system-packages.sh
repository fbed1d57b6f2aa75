#!/usr/bin/env bash
# System libraries the Python packages need but pip cannot install: WeasyPrint (PDF export)
# loads Pango and HarfBuzz through cffi and needs a font with wide coverage (DejaVu); the web
# inbox's browser tests drive Debian's Chromium (Playwright cannot download its own here), and
# its htmx and SSE libraries come from npm.
# Installs with apt-get only what `dpkg -s` says is missing; as root on Debian, no sudo.
#   infra/system-packages.sh          install what is missing (no-op when all are there)
#   infra/system-packages.sh check    exit 1 and name what is missing, install nothing
#   infra/system-packages.sh install browser   also Chromium, for the browser tests
#   infra/system-packages.sh install bench     also wrk and Chromium, for `make bench`
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
# `browser` as the last argument adds what only the test suite needs.
[ "${!#:-}" = browser ] && PACKAGES+=(chromium)
# `bench`: the native load generator and the browser of bench/run_all.py.
[ "${!#:-}" = bench ] && PACKAGES+=(wrk chromium)

missing_packages() {
  local package
  for package in "${PACKAGES[@]}"; do
    dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed' || echo "$package"
  done
}

main() {
  if ! command -v dpkg >/dev/null 2>&1; then
    log "no dpkg here (not Debian): make sure these are installed: ${PACKAGES[*]}"
    return 0
  fi
  local missing
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "${1:-install}" = check ]; then
    log "missing system packages: ${missing[*]}"
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    log "missing system packages: ${missing[*]}"
    log "run as root, or: sudo apt-get install -y ${missing[*]}"
    return 1
  fi
  log "installing system packages: ${missing[*]}"
  apt_install "${missing[@]}" || { log "apt-get could not install: ${missing[*]}"; return 1; }
}

main "$@"
