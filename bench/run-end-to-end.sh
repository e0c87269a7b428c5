#!/usr/bin/env bash
# End-to-end benchmark: brings the system up with ./bus up (no demo jobs), drives it over HTTP with
# Bus.Bench end-to-end (throughput, latency percentiles, invariants, per-service resource use), then runs the
# same number of trivial jobs on Slurm with the same 8 cpu slots (bench/slurm) and prints the ratio.
#
#   bench/run-end-to-end.sh [--jobs 10000] [--concurrency 32] [--service noop|shell] [--warmup 2000] [--rate JOBS_PER_S] [--array N]
#
# --array N submits the jobs as arrays of N (POST /api/v1/jobs:batch), and Slurm's side then submits them as
# `sbatch --array=1-N`, jobs/N times: e.g. --jobs 10000 --array 1000 is 10 arrays of 1,000 on both.
# SLURM=0 skips the Slurm run. BUS_UP_ARGS=--two brings up a second scheduler and gateway, and the jobs are spread
# over both gateways. The system stays up afterwards (./bus down stops it).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system
build_bench

# Every gateway that runs: with ./bus up --two, gateway-2 listens on the next port, and the jobs are spread over both.
gateways="http://127.0.0.1:${BUS_GATEWAY_PORT:-8080}"
if [[ -f "$ROOT/.state/pids/gateway-2.pid" ]] && kill -0 "$(cat "$ROOT/.state/pids/gateway-2.pid")" 2>/dev/null; then
  gateways+=",http://127.0.0.1:$((${BUS_GATEWAY_PORT:-8080} + 1))"
fi
out="$(mktemp)"
status=0
dotnet "$BENCH_DLL" end-to-end --gateway "$gateways" "$@" |
  tee "$out" || status=$?
[[ "${SLURM:-1}" == 0 ]] && exit $status

jobs="$(sed -nE 's/^Throughput: ([0-9,]+) .*/\1/p' "$out" | tr -d ,)"
array=""
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do [[ "${args[i]}" == --array ]] && array="${args[i + 1]}"; done
ours="$(sed -nE 's/^Throughput: .* = ([0-9.]+) jobs\/s.*/\1/p' "$out")"
rm -f "$out"
echo
echo "==> the same $jobs trivial jobs on Slurm (4 nodes x 2 cpus)${array:+, as arrays of $array}" >&2
slurm_line="$(SLURM_BENCH_ARRAY="$array" "$ROOT/bench/slurm/run-jobs.sh" "$jobs" | tail -n 1)"
echo "$slurm_line"
theirs="$(sed -nE 's/^slurm: .* = ([0-9.]+) jobs\/s$/\1/p' <<<"$slurm_line")"
if [[ -n "$ours" && -n "$theirs" ]]; then
  awk -v o="$ours" -v t="$theirs" 'BEGIN { printf "ours: %.1f jobs/s, slurm: %.1f jobs/s, ratio ours/slurm: %.2f\n", o, t, o / t }'
fi
exit $status
