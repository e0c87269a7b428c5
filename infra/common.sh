# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by up.sh / down.sh
# Shared settings and helpers for infra/up.sh and infra/down.sh.
# Sourced, never executed. Everything here is derived from the repo location and BUS_* env vars,
# so up.sh and down.sh always agree on where state lives and which ports are used.

# ---------------------------------------------------------------- locations
INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd -P)"

BUS_STATE_DIR="${BUS_STATE_DIR:-$REPO_ROOT/.state/infra}"
# Make it absolute without requiring it to exist yet.
case "$BUS_STATE_DIR" in /*) ;; *) BUS_STATE_DIR="$PWD/$BUS_STATE_DIR" ;; esac
STATE="$BUS_STATE_DIR"
# The sourceable .NET configuration for the services: <repo>/.state/env by default.
BUS_ENV_FILE="$(dirname "$STATE")/env"

# ---------------------------------------------------------------- ports (all bound to 127.0.0.1)
BUS_RABBIT_PORT="${BUS_RABBIT_PORT:-5682}"
BUS_RABBIT_MGMT_PORT="${BUS_RABBIT_MGMT_PORT:-15682}"
BUS_RABBIT_DIST_PORT=$((BUS_RABBIT_PORT + 20000))
# Not MGMT+10: with the default 15682 that is 15692, the stock rabbitmq_prometheus port.
BUS_RABBIT_PROMETHEUS_PORT="${BUS_RABBIT_PROMETHEUS_PORT:-$((BUS_RABBIT_MGMT_PORT + 20))}"
BUS_REDIS_PORT="${BUS_REDIS_PORT:-6390}"
BUS_REDIS_CLUSTER_PORTS="${BUS_REDIS_CLUSTER_PORTS:-7100 7101 7102 7103 7104 7105}"
read -r -a REDIS_CLUSTER_PORTS <<<"$BUS_REDIS_CLUSTER_PORTS"
BUS_PG_PORT="${BUS_PG_PORT:-5442}"

# ---------------------------------------------------------------- credentials
BUS_RABBIT_NODENAME="${BUS_RABBIT_NODENAME:-bus@localhost}"
BUS_RABBIT_USER="${BUS_RABBIT_USER:-bus}"
BUS_RABBIT_PASS="${BUS_RABBIT_PASS:-bus}"
BUS_RABBIT_VHOST="${BUS_RABBIT_VHOST:-bus}"
BUS_PG_USER="${BUS_PG_USER:-bus}"
BUS_PG_PASS="${BUS_PG_PASS:-bus}"
BUS_PG_DB="${BUS_PG_DB:-bus}"

# ---------------------------------------------------------------- RabbitMQ paths + environment
# BUS_RABBIT_CLUSTER: 0 (the default) runs the single node only; 1 also runs a 3-node cluster next to it (the services
# keep the single node); only runs the cluster instead of the single node, and .state/env points the services at it
# with quorum queues. The cluster's nodes listen on BUS_RABBIT_CLUSTER_PORTS (AMQP), each +10000 (management) and
# +20000 (Erlang distribution).
# The choice sticks (up.sh records it) until BUS_RABBIT_CLUSTER is given again, so a later ./bus up or ./bus restart
# keeps the services on the broker they were started with.
RABBIT_CLUSTER_MODE_FILE="$STATE/rabbitmq-cluster.mode"
if [[ -z "${BUS_RABBIT_CLUSTER:-}" && -s "$RABBIT_CLUSTER_MODE_FILE" ]]; then BUS_RABBIT_CLUSTER="$(cat "$RABBIT_CLUSTER_MODE_FILE")"; fi
BUS_RABBIT_CLUSTER="${BUS_RABBIT_CLUSTER:-0}"
BUS_RABBIT_CLUSTER_PORTS="${BUS_RABBIT_CLUSTER_PORTS:-5710 5711 5712}"
read -r -a RABBIT_CLUSTER_PORTS <<<"$BUS_RABBIT_CLUSTER_PORTS"
RABBIT_CLUSTER_DIR="$STATE/rabbitmq-cluster"

# rabbit_select_node <n>: 0 is the single node, 1 to 3 the cluster's nodes. Sets where that node lives and listens
# (RABBIT_DIR, RABBIT_PID_FILE, RABBIT_LOG_FILE, RABBIT_NODE, RABBIT_AMQP_PORT, RABBIT_MGMT_PORT, RABBIT_DIST_PORT), so
# starting, stopping and rabbitmqctl work the same for every node. Each node has its own folder and HOME.
rabbit_select_node() {
  if [[ "$1" == 0 ]]; then
    RABBIT_DIR="$STATE/rabbitmq"
    RABBIT_NODE="$BUS_RABBIT_NODENAME"
    RABBIT_AMQP_PORT="$BUS_RABBIT_PORT"
    RABBIT_MGMT_PORT="$BUS_RABBIT_MGMT_PORT"
    RABBIT_DIST_PORT="$BUS_RABBIT_DIST_PORT"
  else
    RABBIT_DIR="$RABBIT_CLUSTER_DIR/$1"
    RABBIT_NODE="${BUS_RABBIT_NODENAME%@*}-c$1@${BUS_RABBIT_NODENAME#*@}"
    RABBIT_AMQP_PORT="${RABBIT_CLUSTER_PORTS[$(($1 - 1))]}"
    RABBIT_MGMT_PORT=$((RABBIT_AMQP_PORT + 10000))
    RABBIT_DIST_PORT=$((RABBIT_AMQP_PORT + 20000))
  fi
  RABBIT_PID_FILE="$RABBIT_DIR/rabbitmq.pid"
  RABBIT_LOG_DIR="$RABBIT_DIR/log"
  RABBIT_LOG_FILE="$RABBIT_LOG_DIR/${RABBIT_NODE}.log"
}
rabbit_select_node 0

# Exports everything the rabbitmq-server / rabbitmqctl scripts need for the selected node, so the node and the CLI
# share one HOME (erlang cookie) and nothing touches /var/lib/rabbitmq or /etc/rabbitmq.
rabbit_env() {
  export HOME="$RABBIT_DIR/home"
  export PATH="/usr/lib/rabbitmq/bin:$PATH"
  export RABBITMQ_NODENAME="$RABBIT_NODE"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$RABBIT_AMQP_PORT"
  export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia"
  export RABBITMQ_LOG_BASE="$RABBIT_LOG_DIR"
  export RABBITMQ_PID_FILE="$RABBIT_PID_FILE"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$RABBIT_DIR/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf"
  # Keep Erlang distribution on loopback too: the node's dist listener, and epmd if this node is
  # the one that starts it (an epmd that is already running is shared and left as it is).
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  # Three nodes on a 2-core machine: one scheduler thread each, and no busy-waiting between tasks.
  if [[ "$RABBIT_DIR" == "$RABBIT_CLUSTER_DIR"/* ]]; then
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS+=" +S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
  fi
  export ERL_EPMD_ADDRESS=127.0.0.1
}

# ---------------------------------------------------------------- Redis paths
REDIS_DIR="$STATE/redis"
REDIS_CLUSTER_DIR="$STATE/redis-cluster"
redis_pid_file() { # <port>
  if [[ "$1" == "$BUS_REDIS_PORT" ]]; then echo "$REDIS_DIR/redis.pid"; else echo "$REDIS_CLUSTER_DIR/$1/redis.pid"; fi
}

# ---------------------------------------------------------------- PostgreSQL paths
PG_BIN=/usr/lib/postgresql/15/bin
# Where the data dir lives is decided once by up.sh (the repo may not be traversable by the
# postgres user) and recorded in this file, so down.sh stops/purges the same cluster.
PG_LOCATION_FILE="$STATE/postgres.location"
PG_FALLBACK_ROOT="/var/tmp/bus-$(printf '%s' "$STATE" | sha1sum | cut -c1-12)"
pg_set_base() { # <base dir>
  PG_BASE="$1"
  PG_DATA="$PG_BASE/data"
  PG_RUN="$PG_BASE/run"
  PG_LOG="$PG_BASE/postgres.log"
}
pg_set_base "$STATE/postgres"
if [[ -f "$PG_LOCATION_FILE" ]]; then pg_set_base "$(cat "$PG_LOCATION_FILE")"; fi

pg_ctl_as_postgres() { runuser -u postgres -- "$PG_BIN/pg_ctl" "$@"; }
pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && pg_ctl_as_postgres -D "$PG_DATA" status >/dev/null 2>&1; }

# ---------------------------------------------------------------- helpers
log() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*"; }
die() { printf '[%s] ERROR: %s\n' "${LOG_TAG:-infra}" "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; } # <start>

# wait_until <seconds> <description> <command...>
# Re-runs the command (quietly) every 0.25 s until it succeeds; returns 1 after the deadline.
wait_until() {
  local timeout="$1" desc="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ((SECONDS >= deadline)); then
      printf '[%s] timed out after %ss waiting for %s\n' "${LOG_TAG:-infra}" "$timeout" "$desc" >&2
      return 1
    fi
    sleep 0.25
  done
}

# pid_alive <pidfile> [expected process name]
# True if the pid file exists, the pid is alive and (if given) the process is the expected program,
# so a stale pid file whose pid got reused by something else is not mistaken for our server.
pid_alive() {
  local file="$1" want="${2:-}" pid comm
  [[ -s "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n "$want" ]]; then
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    [[ "$comm" == "$want"* ]] || return 1
  fi
}
pid_of() { tr -dc '0-9' <"$1"; }

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG* ]]; }

rabbit_api_ok() { # the selected node's management API
  curl -fsS -o /dev/null --max-time 3 -u "$BUS_RABBIT_USER:$BUS_RABBIT_PASS" \
    "http://127.0.0.1:$RABBIT_MGMT_PORT/api/overview"
}
