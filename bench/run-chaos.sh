#!/usr/bin/env bash
# Chaos suite: streams recorded shell jobs at the running system (./bus up) and injects one fault per round: kill -9
# of the gateway, the scheduler, the reconciler and a worker (each started again at once with ./bus start), Redis
# FLUSHALL, Redis stopped 30 s, RabbitMQ stopped 30 s, PostgreSQL stopped 10 s and 60 s, and, when the services run
# on the 3-node RabbitMQ cluster (BUS_RABBIT_CLUSTER=only ./bus up), its first node stopped 30 s. Each round prints
# submitted, completed, failed, lost (not terminal by the deadline), executed twice (from the jobs' own records),
# oversold samples, messages dead-lettered, client-visible errors by status code and the time until the last job ended.
#
#   bench/run-chaos.sh [--quick] [--rounds baseline,kill-gateway,...] [--jobs 300] [--rate 20] [--deadline 120] [--job-ms 500]
#
# Outages as long as the services ride through (2 minutes) run only when named: --rounds postgres-stop-120s,
# rabbitmq-stop-120s,redis-stop-120s.
# --quick: 100 jobs per round and a 75 s deadline: about 7 minutes when no round needs its deadline; the default, 300
# jobs and 120 s, about 12. A round that loses jobs waits out its deadline.
# Not part of ./bus test. Loopback only, and bounded: every round ends by its deadline, and the servers it stops are
# started again (infra/up.sh) before the next. Exits 1 when any round lost a job, ran one twice or oversold a worker.
# The executions files and the log of every fault stay in the run folder it prints.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

args=()
for arg in "$@"; do
  if [[ "$arg" == --quick ]]; then args+=(--quick 1); else args+=("$arg"); fi
done

# Idempotent: starts whatever of the infrastructure and the services is not running, on the current build.
ensure_system
build_bench

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bus-chaos.XXXXXX")"
chmod 755 "$RUN_DIR" # the jobs append to files in it, perhaps as another user
echo "==> run folder $RUN_DIR (executions files, chaos.log)" >&2
dotnet "$BENCH_DLL" chaos --root "$ROOT" --run-dir "$RUN_DIR" \
  --gateway "http://127.0.0.1:${BUS_GATEWAY_PORT:-8080}" "${args[@]}"
