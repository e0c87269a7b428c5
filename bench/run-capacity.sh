#!/usr/bin/env bash
# Capacity benchmark: reserve/release through our Lua scripts on Redis standalone and
# cluster, the cluster-wide allocated answer, and the seeds' SQL SUM with and without the partial index.
#
#   bench/run-capacity.sh --storm     (the reservation path under report storms: raw to Redis, and through the debounce)
#   bench/run-capacity.sh [--tasks 32] [--ops 20000] [--warmup 5000] [--workers 50] [--rows 500000] [--unreleased 0.01] [--runs 200]
#
# Uses the running infrastructure (.state/env); starts it with infra/up.sh when it does not answer.
# Writes only keys under a fresh bench-<guid>: prefix and a throwaway bus_bench_* database, dropped at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ENV_FILE="$ROOT/.state/env"
PROJECT="$ROOT/bench/Bus.Bench/Bus.Bench.csproj"

# The same defaults as infra/common.sh.
CLUSTER_PORTS="${BUS_REDIS_CLUSTER_PORTS:-7100 7101 7102 7103 7104 7105}"
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ ! -f "$ENV_FILE" ]] || ! answers "${BUS_REDIS_PORT:-6390}" || ! answers "${BUS_PG_PORT:-5442}" ||
  ! answers "${CLUSTER_PORTS%% *}"; then
  echo "==> infrastructure not answering; starting it with infra/up.sh" >&2
  "$ROOT/infra/up.sh" >&2
fi
# shellcheck source=/dev/null
source "$ENV_FILE"

echo "==> building $PROJECT (Release)" >&2
dotnet build "$PROJECT" -c Release -nologo -v quiet >&2

if [[ "${1:-}" == "--storm" ]]; then
  exec dotnet "$ROOT/bench/Bus.Bench/bin/Release/net10.0/Bus.Bench.dll" report-storm
fi
exec dotnet "$ROOT/bench/Bus.Bench/bin/Release/net10.0/Bus.Bench.dll" capacity "$@"
