#!/usr/bin/env bash
# Where the scheduler's time goes: brings the system up (./bus up, no demo jobs), runs the noop
# end-to-end benchmark, and while it is in steady state samples the scheduler's CPU with dotnet-trace collect-linux (the version
# pinned in dotnet-tools.json, restored here), then prints the hottest methods, exclusive and inclusive.
#
#   bench/run-profile.sh [--seconds 20] [--top 25] [end-to-end options, e.g. --jobs 3000]
#
# The trace is kept in .state/profile/ for PerfView or `dotnet-trace convert --format speedscope`. The system stays
# up afterwards (./bus down stops it).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
seconds=20 top=25 bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    *) bench_args+=("$1"); shift ;;
  esac
done

# Restarted with perf maps, so the kernel's CPU samples of JIT-compiled code resolve to method names.
BUS_PERF_MAP=1 "$ROOT/bus" restart scheduler >&2
# shellcheck source=/dev/null
source "$ENV_FILE"
(cd "$ROOT" && dotnet tool restore >&2)
build_bench

out="$ROOT/.state/profile"
mkdir -p "$out"
trace="$out/scheduler-$(date +%Y%m%d-%H%M%S).nettrace"
log="$out/bench.log"
dotnet "$BENCH_DLL" end-to-end --jobs 3000 "${bench_args[@]}" >"$log" 2>&1 &
bench=$!
# Sample once the warm-up jobs are through and the measured run has started.
until grep -q "^measuring" "$log" 2>/dev/null || ! kill -0 "$bench" 2>/dev/null; do sleep 0.5; done
scheduler="$(cat "$ROOT/.state/pids/scheduler.pid")"
echo "==> sampling the scheduler (pid $scheduler) for ${seconds} s" >&2
# collect-linux: kernel CPU samples (perf_events), so only time on a CPU counts, not threads waiting. Needs root.
(cd "$ROOT" && dotnet tool run dotnet-trace collect-linux -p "$scheduler" --profile cpu-sampling \
  --duration "$(printf '00:00:%02d' "$seconds")" -o "$trace" >&2)
status=0
wait "$bench" || status=$?
cat "$log"
echo
echo "==> hottest methods in the scheduler, exclusive (own time)"
(cd "$ROOT" && dotnet tool run dotnet-trace report "$trace" topN -n "$top")
echo
echo "==> hottest methods in the scheduler, inclusive (own time and callees)"
(cd "$ROOT" && dotnet tool run dotnet-trace report "$trace" topN -n "$top" --inclusive)
exit $status
