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
