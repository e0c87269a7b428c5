#!/usr/bin/env bash
# Runs N trivial jobs (`true`, 1 CPU each) on the Slurm peer and measures throughput, for comparison with our
# end-to-end benchmark.
#
#   bench/slurm/run-jobs.sh N
#
# stdout gets exactly one line, the last thing printed:
#   slurm: N jobs in S.S s = R.R jobs/s      measured from the first sbatch to the queue being empty
#   slurm: unavailable: <why>                Slurm could not be brought up (exit 0)
#   slurm: error: <why>                      it came up, but the run went wrong (exit 1)
# Progress, the load average at the start and the end, and checks go to stderr.
#
# If Slurm is not running this brings it up with up.sh, and stops it again at the end (SLURM_BENCH_KEEP_UP=1
# leaves it running). If it already runs (bench/slurm/up.sh), it is left running.
#
# Each job is its own `sbatch --wrap true` (never one `sbatch --array=1-N`): our benchmark submits N separate
# jobs, and an array would let Slurm create and schedule them as one record, which is not the same work.
# SLURM_BENCH_ARRAY=M is the exception, for our array-submission benchmark: N/M times `sbatch --array=1-M --wrap true`
# (N must be a multiple of M), each array one submission, as each of ours is one POST /api/v1/jobs:batch.
# SLURM_BENCH_SUBMITTERS (default 4) shells submit in parallel, like our benchmark's concurrent HTTP clients.
# SLURM_BENCH_TIMEOUT (default 60 + N/4 seconds) bounds the wait for the queue to drain.
set -uo pipefail
# shellcheck source=bench/slurm/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${1:-}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 N   (N > 0 jobs)" >&2; exit 2; }
SUBMITTERS="${SLURM_BENCH_SUBMITTERS:-4}"
ARRAY="${SLURM_BENCH_ARRAY:-}"
SUBMISSIONS="$N"
if [[ -n "$ARRAY" ]]; then
  [[ "$ARRAY" =~ ^[1-9][0-9]*$ ]] && ((N % ARRAY == 0)) || { echo "SLURM_BENCH_ARRAY must be a positive divisor of N" >&2; exit 2; }
  SUBMISSIONS=$((N / ARRAY))
fi
((SUBMITTERS > SUBMISSIONS)) && SUBMITTERS="$SUBMISSIONS"
TIMEOUT="${SLURM_BENCH_TIMEOUT:-$((60 + N / 4))}"
JOB_NAME=bench-true

info() { echo "slurm: $*" >&2; }
loadavg() { info "load average at $1: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"; }
unavailable() { loadavg end; echo "slurm: unavailable: $*"; exit 0; }
fail() { loadavg end; echo "slurm: error: $*"; exit 1; }

loadavg start

# ------------------------------------------------------------------ bring Slurm up (or find it up)
# A Slurm that already runs is used as it is (not reconfigured from this shell's environment).
all_idle() { [[ "$(sinfo -h -N -p bench -o %t 2>/dev/null | grep -c '^idle$')" == "${#NODES[@]}" ]]; }
WAS_RUNNING=0
live_pid "$CTLD_PID_FILE" slurmctld >/dev/null 2>&1 && WAS_RUNNING=1
mkdir -p "$STATE" 2>/dev/null
UP_LOG="$STATE/run-jobs.up.log"
if ((!WAS_RUNNING)) || ! all_idle; then
  if ! "$SLURM_BENCH_DIR/up.sh" >"$UP_LOG" 2>&1; then
    why="$(cat "$STATE/last-error" 2>/dev/null)"
    [[ -n "$why" ]] || why="$(tail -n 1 "$UP_LOG" 2>/dev/null)"
    [[ -n "$why" ]] || why="bench/slurm/up.sh failed"
    # Don't leave half of it running if this run started it.
    ((WAS_RUNNING)) || "$SLURM_BENCH_DIR/down.sh" >/dev/null 2>&1
    unavailable "$why (see $UP_LOG)"
  fi
fi
SLOTS="$(sinfo -h -p bench -o %C 2>/dev/null | cut -d/ -f4)" # CPUs allocated/idle/other/total
EPILOG="$(scontrol show config 2>/dev/null | awk '$1 == "Epilog" && $3 != "(null)" { print $3 }')"
info "${#NODES[@]} nodes, ${SLOTS:-?} CPU slots, Epilog=${EPILOG:-none}; $N jobs${ARRAY:+ as $SUBMISSIONS arrays of $ARRAY} from $SUBMITTERS submitting shells"

WORK="$(mktemp -d)"
SUBMITTER_PIDS=()
cleanup() {
  local p
  for p in "${SUBMITTER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  # Jobs of this run still queued (interrupted or timed out): cancel them so the next run starts clean.
  [[ -n "$(squeue -h -p bench -n "$JOB_NAME" -o %i 2>/dev/null | head -n 1)" ]] && scancel -p bench -n "$JOB_NAME" 2>/dev/null
  rm -rf "$WORK"
  if ((!WAS_RUNNING)) && [[ "${SLURM_BENCH_KEEP_UP:-0}" != 1 ]]; then
    info "stopping Slurm (this run started it)"
    "$SLURM_BENCH_DIR/down.sh" >/dev/null 2>&1
  fi
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

queued() { squeue -h -p bench -o %i 2>/dev/null | wc -l; }

# The queue must be empty, or we would also be timing someone else's jobs.
for ((i = 0; i < 300; i++)); do
  q="$(queued)"
  ((q == 0)) && break
  ((i == 0)) && info "waiting for $q jobs already in partition bench to finish"
  sleep 0.2
done
((q == 0)) || fail "$q jobs were already in partition bench and did not finish within 60 s"

# Completed jobs are appended to this log (JobCompType=jobcomp/filetxt); only what follows this offset is ours.
COMP_OFFSET="$(stat -c %s "$JOBCOMP_LOG" 2>/dev/null || echo 0)"

# ------------------------------------------------------------------ submit
submitter() { # <index> <count>: submit <count> jobs (or arrays) one after another; ids to ids.<index>, failures to failed.<index>
  local k out
  local array=()
  [[ -n "$ARRAY" ]] && array=(--array="1-$ARRAY")
  for ((k = 0; k < $2; k++)); do
    for _ in 1 2 3; do
      if out="$(sbatch --parsable "${array[@]}" -p bench -n 1 -c 1 -J "$JOB_NAME" -D / -o /dev/null --wrap true 2>&1)"; then
        echo "${out%%;*}" >>"$WORK/ids.$1"
        continue 2
      fi
      sleep 0.2
    done
    echo "$out" >>"$WORK/failed.$1"
  done
}

T_START="$(now)"
for ((s = 0; s < SUBMITTERS; s++)); do
  count=$((SUBMISSIONS / SUBMITTERS + (s < SUBMISSIONS % SUBMITTERS ? 1 : 0)))
  submitter "$s" "$count" &
  SUBMITTER_PIDS+=("$!")
done
wait "${SUBMITTER_PIDS[@]}"
SUBMITTER_PIDS=()
T_SUBMITTED="$(now)"
SUBMITTED=$(($(cat "$WORK"/ids.* 2>/dev/null | wc -l) * N / SUBMISSIONS))
FAILED="$(cat "$WORK"/failed.* 2>/dev/null | wc -l)"
info "submitted $SUBMITTED jobs in $(awk -v a="$T_START" -v b="$T_SUBMITTED" 'BEGIN { printf "%.1f s (%.1f/s)", b - a, '"$SUBMITTED"' / (b - a) }')"
((FAILED == 0)) || fail "$FAILED of $SUBMISSIONS sbatch calls failed 3 times, e.g.: $(cat "$WORK"/failed.* | head -n 1)"

# ------------------------------------------------------------------ wait for the queue to drain
DEADLINE=$((SECONDS + TIMEOUT))
while :; do
  q="$(queued)"
  ((q == 0)) && break
  ((SECONDS < DEADLINE)) || fail "$q of $N jobs still queued or running after ${TIMEOUT}s (SLURM_BENCH_TIMEOUT)"
  sleep 0.1
done
T_END="$(now)"

# ------------------------------------------------------------------ check: every job of ours completed with exit 0
# An array's tasks get job ids of their own, which sbatch never printed: they are known by the job name instead (the
# partition was empty when the run began, and nobody else's jobs are named so).
sort -n "$WORK"/ids.* >"$WORK/ids"
check() {
  tail -c +"$((COMP_OFFSET + 1))" "$JOBCOMP_LOG" 2>/dev/null |
    awk -v by_name="${ARRAY:+$JOB_NAME}" 'NR == FNR { ours[$1] = 1; next }
         { id = ""; st = ""; ec = ""; name = ""
           for (f = 1; f <= NF; f++) {
             if ($f ~ /^JobId=/) id = substr($f, 7)
             else if ($f ~ /^Name=/) name = substr($f, 6)
             else if ($f ~ /^JobState=/) st = substr($f, 10)
             else if ($f ~ /^ExitCode=/) ec = substr($f, 10) }
           if (by_name != "" ? name != by_name : !(id in ours)) next
           if (id in seen) next
           seen[id] = 1
           if (st == "COMPLETED" && ec == "0:0") ok++; else { bad++; if (!ex) ex = id " " st " " ec } }
         END { printf "%d %d %s\n", ok, bad, ex }' "$WORK/ids" -
}
for ((i = 0; i < 25; i++)); do # the completion log can trail the queue by a moment
  read -r OK BAD EXAMPLE < <(check)
  ((OK + BAD >= SUBMITTED)) && break
  sleep 0.2
done
info "completion log: $OK of $SUBMITTED jobs COMPLETED with exit 0:0, $BAD did not"
((BAD == 0)) || fail "$BAD of $N jobs did not complete with exit 0, e.g. job $EXAMPLE"
((OK == N)) || fail "only $OK of $N jobs are in the completion log $JOBCOMP_LOG"

loadavg end
awk -v n="$N" -v a="$T_START" -v b="$T_END" 'BEGIN { s = b - a; printf "slurm: %d jobs in %.1f s = %.1f jobs/s\n", n, s, n / s }'
