#!/usr/bin/env bash
# Local Apache Kafka (KRaft, one combined broker+controller node) from Maven Central jars.
#   infra/kafka.sh start|stop|status|jars
# Skipped when KAFKA_BOOTSTRAP_SERVERS names a broker that is not ours.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

KAFKA_DIR="$STATE_DIR/kafka"
LIBS="$KAFKA_DIR/libs"
CONF="$KAFKA_DIR/server.properties"
DATA="$KAFKA_DIR/data"
PIDFILE="$KAFKA_DIR/kafka.pid"
POM="$SWITCHBOARD_ROOT/infra/kafka/pom.xml"

external() { [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ "$KAFKA_BOOTSTRAP_SERVERS" != "localhost:$KAFKA_PORT" ] && [ "$KAFKA_BOOTSTRAP_SERVERS" != "127.0.0.1:$KAFKA_PORT" ]; }

ensure_tools() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
}

ensure_jars() {
  local stamp="$LIBS/.pom.sha"
  local want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  ensure_tools
  log "resolving Kafka jars from Maven Central (first run only)"
  rm -rf "$LIBS.tmp" && mkdir -p "$LIBS.tmp"
  mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" >"$KAFKA_DIR/mvn.log" 2>&1 ||
    { log "maven failed, see $KAFKA_DIR/mvn.log"; tail -20 "$KAFKA_DIR/mvn.log" >&2; return 1; }
  echo "$want" >"$LIBS.tmp/.pom.sha"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
}

write_config() {
  mkdir -p "$DATA" "$KAFKA_DIR/logs"
  cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=-1
PROPS
  cat >"$KAFKA_DIR/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    RollingFile:
      name: File
      fileName: "${sys:kafka.logs.dir}/server.log"
      filePattern: "${sys:kafka.logs.dir}/server.log.%i"
      PatternLayout: { pattern: "[%d] %p %m (%c)%n" }
      Policies: { SizeBasedTriggeringPolicy: { size: 20MB } }
      DefaultRolloverStrategy: { max: 3 }
  Loggers:
    Root: { level: INFO, AppenderRef: [{ ref: File }] }
YAML
}

JAVA_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true)
java_cmd() { # main class and args
  java "${JAVA_OPTS[@]}" \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$LIBS/*" "$@"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

serialized() { # one start or stop at a time per clone (tests of several sessions restart the broker)
  # (The broker itself must not inherit the lock: it is started with fd 9 closed.)
  mkdir -p "$KAFKA_DIR"
  exec 9>"$KAFKA_DIR/start-stop.lock"
  flock -w 180 9 || log "waited 180 s for another start/stop of this Kafka; going on"
}

start() {
  if external; then log "using external Kafka at $KAFKA_BOOTSTRAP_SERVERS"; return 0; fi
  if running && port_open "$KAFKA_PORT"; then log "Kafka already running (pid $(cat "$PIDFILE"))"; return 0; fi
  serialized
  if running && port_open "$KAFKA_PORT"; then log "Kafka already running (pid $(cat "$PIDFILE"))"; return 0; fi
  # Another process on our ports (another clone's Kafka, anything else): say who, never a bind
  # error in a log.
  if ! running; then
    # This clone's own broker whose pid file was lost (two starts racing): adopt it.
    local pid; pid="$(port_pid "$KAFKA_PORT")"
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONF"; then
      echo "$pid" >"$PIDFILE"
      log "Kafka already running (pid $pid; pid file restored)"
      return 0
    fi
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      port_open "$port" && { port_taken "$port" Kafka; return 1; }
    done
  fi
  rm -f "$PIDFILE"
  ensure_jars
  command -v java >/dev/null || ensure_tools
  write_config
  if [ ! -f "$DATA/meta.properties" ]; then
    log "formatting Kafka storage"
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" -c "$CONF" >"$KAFKA_DIR/format.log" 2>&1 ||
      { cat "$KAFKA_DIR/format.log" >&2; return 1; }
  fi
  log "starting Kafka on :$KAFKA_PORT"
  nohup java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" -cp "$LIBS/*" kafka.Kafka "$CONF" \
    >"$KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDFILE"
  wait_for_port "$KAFKA_PORT" 90 Kafka || { tail -30 "$KAFKA_DIR/logs/server.log" >&2 || true; return 1; }
  running || { log "Kafka exited at start; see $KAFKA_DIR/logs/server.log"; tail -30 "$KAFKA_DIR/logs/stdout.log" >&2 || true; return 1; }
}

stop() {
  serialized
  if running; then
    local pid; pid="$(cat "$PIDFILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "Kafka stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) running && echo running || echo stopped ;;
  jars) ensure_jars; echo "$LIBS" ;;
  run-class) shift; ensure_jars; java_cmd "$@" ;;
  *) echo "usage: $0 start|stop|status|jars|run-class CLASS ARGS" >&2; exit 2 ;;
esac
