#!/usr/bin/env bash
# Scale simulation: placement latency and throughput with 10, 100 and 1,000 simulated workers and
# 0, 10,000 and 100,000 jobs already pending. Builds in Release, then Bus.Bench scale starts its own gateway, scheduler
# and one worker process hosting the simulated workers, against a database, RabbitMQ virtual host and Redis key
# prefix of their own, on the running infrastructure (.state/env). At the end it stops them by pid and deletes all
# three. About 10 minutes on 2 cores.
#
#   bench/run-scale.sh [--workers 10,100,1000] [--pending 0,10000,100000] [--probes 200] [--rate 20] [--burst 600] [--bursts 3]
#                      [--concurrency 32] [--warmup 100] [--cpus 4]
#
# It starts the infrastructure with infra/up.sh when it does not answer (idempotent), and never stops it.
#
# The RabbitMq__* and ConnectionStrings__* variables come from .state/env.
# shellcheck disable=SC2154
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_infrastructure
# libpq's form of the Npgsql connection string (Host=...;Port=...;Database=...;Username=...;Password=...), for psql.
PG="$(sed -E 's/Host=/host=/; s/Port=/port=/; s/Database=/dbname=/; s/Username=/user=/; s/Password=/password=/; s/;/ /g' \
  <<<"$ConnectionStrings__Postgres")"

echo "==> building the services and the benchmark (Release)" >&2
for project in services/gateway/Bus.Gateway.csproj services/scheduler/Bus.Scheduler.csproj services/worker/Bus.Worker.csproj \
  bench/Bus.Bench/Bus.Bench.csproj; do
  dotnet build "$ROOT/$project" -c Release -nologo -v quiet -clp:NoSummary >&2
done

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bus-scale.XXXXXX")"
# Should the program die without cleaning up: stop what it started, by the pids it wrote, and delete its database
# and virtual host (cleanup.env is removed once the program has done so itself).
cleanup() {
  for pid_file in "$RUN_DIR"/*.pid; do
    [[ -f "$pid_file" ]] || continue
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null; then
      echo "stopping leftover $(basename "$pid_file" .pid) (pid $pid)" >&2
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ -f "$RUN_DIR/cleanup.env" ]]; then
    # shellcheck source=/dev/null
    source "$RUN_DIR/cleanup.env"
    echo "deleting leftover database $DATABASE and virtual host $VHOST" >&2
    psql "$PG" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >&2 || true
    curl -sf -u "$RabbitMq__Username:$RabbitMq__Password" -X DELETE \
      "http://$RabbitMq__Host:$RabbitMq__ManagementPort/api/vhosts/$VHOST" >&2 || true
  fi
}
trap cleanup EXIT

dotnet "$BENCH_DLL" scale --run-dir "$RUN_DIR" "$@"
