#!/usr/bin/env bash
# Stops exactly what infra/up.sh started, through pid files and the servers' own CLIs
# (never by process-name matching). Idempotent: anything already stopped is skipped.
#
#   infra/down.sh [--purge]     --purge also deletes the state folder (and the /var/tmp
#                               postgres fallback folder, if up.sh had to use it) and .state/env
#   infra/down.sh --only NAME   stops one server and leaves the rest running (infra/up.sh starts it again):
#                               rabbitmq, rabbitmq-cluster, rabbitmq-node-1 (2, 3), redis, redis-cluster, postgres
set -euo pipefail

LOG_TAG=down
# shellcheck source=infra/common.sh disable=SC2034
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PURGE=0
ONLY=""
while (($#)); do
  case "$1" in
    --purge) PURGE=1 ;;
    --only)
      [[ "${2:-}" =~ ^(rabbitmq|rabbitmq-cluster|rabbitmq-node-[123]|redis|redis-cluster|postgres)$ ]] ||
        die "--only needs rabbitmq, rabbitmq-cluster, rabbitmq-node-1 (2, 3), redis, redis-cluster or postgres"
      ONLY="$2"
      shift
      ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
((PURGE == 0)) || [[ -z "$ONLY" ]] || die "--purge and --only do not go together"

T_ALL="$(now)"
failed=0

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- RabbitMQ
stop_rabbitmq() { # [node: 0 the single node (default), 1 to 3 the cluster's]
  local t pid; t="$(now)"
  rabbit_select_node "${1:-0}"
  if ! pid_alive "$RABBIT_PID_FILE" beam; then
    [[ "${1:-0}" != 0 && ! -d "$RABBIT_DIR" ]] || log "rabbitmq $RABBIT_NODE not running"
    return 0
  fi
  pid="$(pid_of "$RABBIT_PID_FILE")"
  # Subshell: rabbit_env changes HOME/PATH, keep that local.
  if (rabbit_env && cd "$RABBIT_DIR" && rabbitmqctl -q -n "$RABBIT_NODE" stop "$RABBIT_PID_FILE") >"$RABBIT_DIR/stop.out" 2>&1; then
    log "rabbitmq $RABBIT_NODE stopped (pid $pid, $(elapsed "$t"))"
  elif wait_until 5 "rabbitmq pid $pid to exit" pid_gone "$pid"; then
    log "rabbitmq $RABBIT_NODE stopped (pid $pid, $(elapsed "$t"))"
  else
    # Last resort, still only the pid from our own pid file.
    log "rabbitmqctl stop failed ($(tail -n 3 "$RABBIT_DIR/stop.out" | tr '\n' ' ')); sending TERM to pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    if wait_until 30 "rabbitmq pid $pid to exit" pid_gone "$pid"; then
      log "rabbitmq $RABBIT_NODE stopped (pid $pid, $(elapsed "$t"))"
    else
      failed=1
    fi
  fi
  rm -f "$RABBIT_PID_FILE"
  # epmd (port 4369, started by the node) is shared by every Erlang node on the machine and is left running.
}

# ---------------------------------------------------------------- Redis
# A redis-server takes ~1 s to exit after SHUTDOWN, so all of them are told first, then awaited.
# NOW: don't wait for replicas to catch up (nothing is persisted anyway); a Redis older than 7.0
# rejects NOW, and then gets the plain command.
redis_shutdown() { # <port>
  local reply
  reply="$(redis-cli -h 127.0.0.1 -p "$1" shutdown nosave now 2>&1 || true)"
  if [[ "$reply" == *ERR* ]]; then redis-cli -h 127.0.0.1 -p "$1" shutdown nosave >/dev/null 2>&1 || true; fi
}

stop_redises() { # [standalone | cluster] (default both)
  local t port d file pids=() ports=(); t="$(now)"
  # Our ports, plus node dirs left from a different BUS_REDIS_CLUSTER_PORTS setting.
  local candidates=()
  [[ "${1:-}" == cluster ]] || candidates+=("$BUS_REDIS_PORT")
  [[ "${1:-}" == standalone ]] || candidates+=("${REDIS_CLUSTER_PORTS[@]}")
  if [[ -d "$REDIS_CLUSTER_DIR" && "${1:-}" != standalone ]]; then
    for d in "$REDIS_CLUSTER_DIR"/*/; do
      port="$(basename "$d")"
      if [[ "$port" =~ ^[0-9]+$ && " ${candidates[*]} " != *" $port "* ]]; then candidates+=("$port"); fi
    done
  fi
  for port in "${candidates[@]}"; do
    file="$(redis_pid_file "$port")"
    pid_alive "$file" redis-server || continue
    pids+=("$(pid_of "$file")")
    ports+=("$port")
    redis_shutdown "$port"
  done
  if ((${#pids[@]} == 0)); then
    log "redis: nothing running"
    return 0
  fi
  local i
  for i in "${!pids[@]}"; do
    if wait_until 20 "redis :${ports[$i]} (pid ${pids[$i]}) to exit" pid_gone "${pids[$i]}"; then
      rm -f "$(redis_pid_file "${ports[$i]}")"
    else
      failed=1
    fi
  done
  log "redis stopped on ${ports[*]} ($(elapsed "$t"))"
}

# ---------------------------------------------------------------- PostgreSQL
stop_postgres() {
  local t; t="$(now)"
  if ! pg_running; then
    log "postgres not running"
    return 0
  fi
  local pid
  pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null | tr -dc '0-9')"
  # pg_ctl -w returns once postmaster.pid is gone, a moment before the postmaster has exited.
  if pg_ctl_as_postgres -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null &&
    { [[ -z "$pid" ]] || wait_until 10 "postgres pid $pid to exit" pid_gone "$pid"; }; then
    log "postgres stopped (pid ${pid:-?}, $(elapsed "$t"))"
  else
    failed=1
  fi
}

stop_rabbitmq_cluster() {
  local n
  for n in 3 2 1; do stop_rabbitmq "$n"; done
}

case "$ONLY" in
  "") stop_rabbitmq && stop_rabbitmq_cluster && stop_redises && stop_postgres ;;
  rabbitmq) stop_rabbitmq ;;
  rabbitmq-cluster) stop_rabbitmq_cluster ;;
  rabbitmq-node-*) stop_rabbitmq "${ONLY#rabbitmq-node-}" ;;
  redis) stop_redises standalone ;;
  redis-cluster) stop_redises cluster ;;
  postgres) stop_postgres ;;
esac

if ((PURGE)); then
  ((failed == 0)) || die "something did not stop; not purging"
  # Guard against a BUS_STATE_DIR that points somewhere silly.
  case "$STATE" in "" | / | /root | /home | /tmp | /var | /var/tmp | /usr | /etc) die "refusing to purge '$STATE'" ;; esac
  [[ "$REPO_ROOT/" != "$STATE/"* ]] || die "refusing to purge '$STATE': it contains the repository"
  if [[ "$PG_BASE" == "$PG_FALLBACK_ROOT"/* && -d "$PG_FALLBACK_ROOT" ]]; then
    rm -rf "$PG_FALLBACK_ROOT"
    log "purged $PG_FALLBACK_ROOT"
  fi
  rm -rf "$STATE"
  rm -f "$BUS_ENV_FILE"
  rmdir "$(dirname "$STATE")" 2>/dev/null || true
  log "purged $STATE and $BUS_ENV_FILE"
fi

((failed == 0)) || die "some servers did not stop (see messages above)"
log "done ($(elapsed "$T_ALL"))"
