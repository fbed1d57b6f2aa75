#!/usr/bin/env bash
# Local PostgreSQL cluster under the state folder, from Debian's packages.
#   infra/postgres.sh start|stop|status|url|dir|remove
# Skipped when DATABASE_URL is set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

locate() { # where the cluster lives: PG_DIR, PG_DATA, PG_SOCKET
  PG_DIR="$STATE_DIR/postgres"
  # As root, the cluster runs as the postgres user, who may not be able to enter the state folder
  # (a clone in root's 0700 home): the cluster then lives under postgres's own home, one folder
  # per state folder, with a `clone` file naming the clone (for port_holder) and a note here.
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    PG_DIR="/var/lib/postgresql/switchboard/$(printf %s "$STATE_DIR" | sha1sum | cut -c1-12)"
  fi
  PG_DATA="$PG_DIR/data"
  PG_SOCKET="$PG_DIR/run"
}
locate

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
  if [ "$PG_DIR" != "$STATE_DIR/postgres" ]; then
    log "(the postgres user cannot enter $STATE_DIR, so the cluster lives in $PG_DIR)"
    echo "$SWITCHBOARD_ROOT" >"$PG_DIR/clone"
    echo "$PG_DIR" >"$STATE_DIR/postgres-location"
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_DIR"
  local pwfile="$PG_DIR/.pw"
  (umask 077 && echo "$PG_PASSWORD" >"$pwfile")
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  # A Unix socket path longer than 107 bytes cannot be bound: a clone deep in folders uses TCP only.
  local sockets="$PG_SOCKET"
  [ ${#PG_SOCKET} -gt 90 ] && sockets=""
  as_owner "$(pg_bin)/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  rm -f "$pwfile"
  cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockets'
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
  locate
  if running; then log "PostgreSQL already running on :$PG_PORT"; return 0; fi
  port_open "$PG_PORT" && { port_taken "$PG_PORT" PostgreSQL; return 1; }
  ensure_cluster
  mkdir -p "$PG_SOCKET"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET"
  log "starting PostgreSQL on :$PG_PORT"
  as_owner "$(pg_bin)/pg_ctl" -D "$PG_DATA" -o "-p $PG_PORT" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
    { tail -20 "$PG_DIR/server.log" >&2; return 1; }
  PGPASSWORD="$PG_PASSWORD" "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1 ||
    PGPASSWORD="$PG_PASSWORD" "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DATABASE"
}

stop() {
  [ -n "$(pg_bin)" ] || return 0
  if running; then as_owner "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "PostgreSQL stopped"; fi
}

remove() { # stop and delete the cluster (make clean)
  stop
  rm -rf "$PG_DIR" "$STATE_DIR/postgres-location"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  remove) remove ;;
  dir) echo "$PG_DIR" ;;
  status) running && echo running || echo stopped ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url|dir|remove" >&2; exit 2 ;;
esac
