#!/usr/bin/env bash
# Local PostgreSQL cluster under the state folder, from Debian's packages.
#   infra/postgres.sh start|stop|status|url
# Skipped when DATABASE_URL is set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PG_DIR="$STATE_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCKET="$PG_DIR/run"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$dir" ] && echo "$dir"
}

as_owner() { # initdb and postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql+asyncpg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE"; }

ensure_installed() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] && return 0
  log "installing PostgreSQL from Debian packages"
  apt_install postgresql postgresql-contrib
}

ensure_cluster() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  log "creating PostgreSQL cluster in $PG_DATA"
  rm -rf "$PG_DATA"
  mkdir -p "$PG_DATA" "$PG_SOCKET"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_DIR"
  local pwfile="$PG_DIR/.pw"
  echo "$PG_PASSWORD" >"$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  as_owner "$(pg_bin)/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  rm -f "$pwfile"
  cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
max_connections = 300
shared_buffers = 512MB
fsync = on
synchronous_commit = off
log_min_duration_statement = -1
CONF
}

running() { [ -f "$PG_DATA/postmaster.pid" ] && as_owner "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start() {
  if [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$(url)" ]; then log "using external PostgreSQL from DATABASE_URL"; return 0; fi
  ensure_installed
  ensure_cluster
  mkdir -p "$PG_SOCKET"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET"
  if running; then log "PostgreSQL already running on :$PG_PORT"; return 0; fi
  log "starting PostgreSQL on :$PG_PORT"
  as_owner "$(pg_bin)/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
    { tail -20 "$PG_DIR/server.log" >&2; return 1; }
  PGPASSWORD="$PG_PASSWORD" "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1 ||
    PGPASSWORD="$PG_PASSWORD" "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DATABASE"
}

stop() {
  [ -n "$(pg_bin)" ] || return 0
  if running; then as_owner "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "PostgreSQL stopped"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) running && echo running || echo stopped ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
