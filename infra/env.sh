# Sourced by the infra scripts: where local state lives and the default local addresses.
SWITCHBOARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${SWITCHBOARD_STATE_DIR:-$SWITCHBOARD_ROOT/.state}"
KAFKA_PORT="${SWITCHBOARD_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${SWITCHBOARD_KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${SWITCHBOARD_PG_PORT:-55432}"
PG_USER=switchboard
PG_PASSWORD=switchboard
PG_DATABASE=switchboard
mkdir -p "$STATE_DIR"

log() { printf '[infra] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # port seconds what
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  log "$3 did not open port $1 within $2 s"
  return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing system packages ($*); install them or run as root"
    return 1
  fi
  if [ -z "${_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

free_port_from() { # the first port from $1 up that nobody listens on
  local port=$1
  while port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

clone_of() { # a Switchboard state path (…/.state/…) → the clone's folder, or nothing
  case "$1" in
    */.state/*) echo "${1%%/.state/*}" ;;
    /var/lib/postgresql/switchboard/*) local f; f="$(cut -d/ -f1-6 <<<"$1")/clone"; [ -r "$f" ] && cat "$f" ;;
  esac
}

port_pid() { # the oldest process listening on a local port (a server's children share the socket)
  local pids
  pids="$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u | paste -sd, || true)"
  [ -n "$pids" ] && ps -o pid= --sort=start_time -p "$pids" 2>/dev/null | head -1 | tr -d ' '
  return 0
}

# Who listens on a local port, in one line: the process, and when it belongs to another
# Switchboard clone, that clone's folder and the command that stops it. Nothing when free.
port_holder() {
  local port=$1 pid="" cmd="" clone=""
  port_open "$port" || return 0
  pid="$(port_pid "$port")"
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
    local full; full="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    cmd="$(cut -c1-120 <<<"$full")"
    case "$full" in
      *postgres\ -D\ *) cmd=PostgreSQL; clone="$(clone_of "$(sed -E 's/.* -D ([^ ]+).*/\1/' <<<"$full")")" ;;
      *kafka.Kafka\ *) cmd=Kafka; clone="$(clone_of "$(awk '{print $NF}' <<<"$full")")" ;;
      *python*\ -m\ *)
        cmd="python -m $(sed -E 's/.* -m ([^ ]+).*/\1/' <<<"$full")"
        local cwd; cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
        [ -f "$cwd/infra/env.sh" ] && clone="$cwd" ;;
    esac
  elif [ "$port" = "$PG_PORT" ] && command -v psql >/dev/null 2>&1; then
    # Not our process to look at (another user's): a Switchboard PostgreSQL says where its data is.
    clone="$(clone_of "$(PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -p "$port" \
      -U "$PG_USER" -d postgres -tAc 'SHOW data_directory' 2>/dev/null || true)")"
    cmd="PostgreSQL"
  fi
  local who="${cmd:-a process of another user}${pid:+ (pid $pid)}"
  if [ -n "$clone" ] && [ "$clone" != "$SWITCHBOARD_ROOT" ]; then
    case "$cmd" in
      python*) echo "the Switchboard clone in $clone: $who; stop its \`make run\` (Ctrl-C), or kill $pid" ;;
      *) echo "the Switchboard clone in $clone: $who; stop it with: make -C $clone stop-infra" ;;
    esac
  elif [ -n "$clone" ]; then
    case "$cmd" in
      python*) echo "this clone's own $who: a \`make run\` of this clone already runs; stop it (Ctrl-C), or kill $pid" ;;
      *) echo "this clone's own $who: make -C $clone stop-infra (or kill $pid) stops it" ;;
    esac
  else
    echo "$who"
  fi
}

port_taken() { # port what: explain, with the way out, and fail
  log "cannot start $2: port $1 is taken by $(port_holder "$1")"
  log "or use other ports for this clone, e.g.: SWITCHBOARD_PG_PORT=$(free_port_from $((PG_PORT + 1))) SWITCHBOARD_KAFKA_PORT=$(free_port_from $((KAFKA_PORT + 100))) SWITCHBOARD_KAFKA_CONTROLLER_PORT=$(free_port_from $((KAFKA_CONTROLLER_PORT + 100))) make run"
  return 1
}
