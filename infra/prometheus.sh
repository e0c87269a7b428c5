#!/usr/bin/env bash
# A real Prometheus (Debian's package) that scrapes every Bus service and RabbitMQ, with the alert rules of
# infra/prometheus/alerts.yml. Optional: `./bus up --prometheus` starts it, `./bus down` stops it.
#
#   infra/prometheus.sh install   install the package if it is missing (idempotent)
#   infra/prometheus.sh up        install, write the configuration, start it, wait until it is ready
#   infra/prometheus.sh down      stop the one this script started (by its pid file)
#
# Settings: BUS_PROMETHEUS_PORT (9090), BUS_PROMETHEUS_DIR (<state>/prometheus), and BUS_PROMETHEUS_TARGETS, a list
# of service=host:port that defaults to what `./bus up` runs (the gateway on its API port, the others on their
# management ports: scheduler 8091, reconciler 8092, worker-1 8093, worker-2 8094, or from BUS_MANAGEMENT_PORT up).
set -euo pipefail
LOG_TAG=prometheus
# shellcheck source=infra/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROM_DIR="${BUS_PROMETHEUS_DIR:-$STATE/prometheus}"
PROM_PORT="${BUS_PROMETHEUS_PORT:-9090}"
PROM_PID_FILE="$PROM_DIR/prometheus.pid"
MGMT_BASE="${BUS_MANAGEMENT_PORT:-8091}"
PROM_TARGETS="${BUS_PROMETHEUS_TARGETS:-gateway=127.0.0.1:${BUS_GATEWAY_PORT:-8080} scheduler=127.0.0.1:$MGMT_BASE reconciler=127.0.0.1:$((MGMT_BASE + 1)) worker-1=127.0.0.1:$((MGMT_BASE + 2)) worker-2=127.0.0.1:$((MGMT_BASE + 3))}"
PROM_URL="http://127.0.0.1:$PROM_PORT"

install() {
  command -v prometheus >/dev/null 2>&1 && return 0
  log "installing prometheus"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
}

write_config() {
  mkdir -p "$PROM_DIR"
  {
    cat <<YAML
# Written by infra/prometheus.sh; edit BUS_PROMETHEUS_TARGETS instead of this file.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $INFRA_DIR/prometheus/alerts.yml
scrape_configs:
  - job_name: bus
    static_configs:
YAML
    local target
    for target in $PROM_TARGETS; do
      printf '      - targets: ["%s"]\n        labels: { service: "%s" }\n' "${target#*=}" "${target%%=*}"
    done
    cat <<YAML
  - job_name: rabbitmq
    static_configs:
      - targets: ["127.0.0.1:$BUS_RABBIT_PROMETHEUS_PORT"]
  # Per-queue series (messages ready in each _error queue, for one), which the aggregated endpoint leaves out.
  - job_name: rabbitmq-queues
    metrics_path: /metrics/per-object
    static_configs:
      - targets: ["127.0.0.1:$BUS_RABBIT_PROMETHEUS_PORT"]
YAML
  } >"$PROM_DIR/prometheus.yml"
  promtool check config "$PROM_DIR/prometheus.yml" >/dev/null
}

up() {
  install
  if pid_alive "$PROM_PID_FILE" prometheus; then
    log "already running (pid $(pid_of "$PROM_PID_FILE")); reloading its configuration"
    write_config
    kill -HUP "$(pid_of "$PROM_PID_FILE")"
    return 0
  fi
  write_config
  local started
  started="$(now)"
  nohup prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PROM_PORT" \
    >"$PROM_DIR/prometheus.log" 2>&1 &
  echo $! >"$PROM_PID_FILE"
  wait_until 30 "prometheus ready on $PROM_URL" curl -fsS "$PROM_URL/-/ready" || { tail -20 "$PROM_DIR/prometheus.log" >&2; exit 1; }
  log "up on $PROM_URL in $(elapsed "$started") (pid $(pid_of "$PROM_PID_FILE"); targets: $PROM_TARGETS)"
}

down() {
  pid_alive "$PROM_PID_FILE" prometheus || { rm -f "$PROM_PID_FILE"; return 0; }
  local pid
  pid="$(pid_of "$PROM_PID_FILE")"
  kill -TERM "$pid"
  wait_until 30 "prometheus (pid $pid) to stop" bash -c "! kill -0 $pid" || kill -KILL "$pid"
  rm -f "$PROM_PID_FILE"
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
