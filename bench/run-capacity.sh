#!/usr/bin/env bash
# Capacity benchmark: reserve/release through our Lua scripts on Redis standalone and
# cluster, the cluster-wide allocated answer, and the original design's SQL SUM with and without the partial index.
#
#   bench/run-capacity.sh --storm     (the reservation path under report storms: raw to Redis, and through the debounce)
#   bench/run-capacity.sh [--tasks 32] [--ops 20000] [--warmup 5000] [--workers 50] [--rows 500000] [--unreleased 0.01] [--runs 200]
#
# Uses the running infrastructure (.state/env); starts it with infra/up.sh when it does not answer.
# Writes only keys under a fresh bench-<guid>: prefix and a throwaway bus_bench_* database, dropped at the end.
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_infrastructure
build_bench

if [[ "${1:-}" == "--storm" ]]; then
  exec dotnet "$BENCH_DLL" report-storm
fi
exec dotnet "$BENCH_DLL" capacity "$@"
