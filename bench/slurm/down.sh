#!/usr/bin/env bash
# Stops exactly what bench/slurm/up.sh started, found through its pid files under <repo>/.state/slurm/run
# and <repo>/.state/slurm/munge: the bench partition's jobs are cancelled, then the four slurmd, slurmctld and
# munged are stopped. A pid file whose process is gone, or is no longer the daemon it names, is ignored.
#
#   bench/slurm/down.sh [--purge]   # --purge also deletes <repo>/.state/slurm
#   (--keep-munge leaves munged running; up.sh uses it when it restarts Slurm after a configuration change)
set -euo pipefail
# shellcheck source=bench/slurm/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PURGE=0
KEEP_MUNGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    --keep-munge) KEEP_MUNGE=1 ;;
    *) echo "usage: $0 [--purge]" >&2 && exit 2 ;;
  esac
done

say() { echo "==> $*" >&2; }
# stop <name>=<pid> ...: SIGTERM to all at once (each daemon takes ~2 s to exit, so one after the other would
# add up), wait up to 15 s for them, then SIGKILL whatever is left.
stop() {
  local a i left
  for a in "$@"; do kill "${a#*=}" 2>/dev/null; done
  for ((i = 0; i < 75; i++)); do
    left=()
    for a in "$@"; do kill -0 "${a#*=}" 2>/dev/null && left+=("$a"); done
    ((${#left[@]})) || break
    sleep 0.2
  done
  for a in "$@"; do
    if kill -0 "${a#*=}" 2>/dev/null; then
      say "${a%=*} (pid ${a#*=}) ignored SIGTERM for 15 s: SIGKILL"
      kill -KILL "${a#*=}" 2>/dev/null
    else
      say "stopped ${a%=*} (pid ${a#*=})"
    fi
  done
}

if [[ -f "$CONF" ]]; then
  CTLD_PID="$(live_pid "$CTLD_PID_FILE" slurmctld)" || CTLD_PID=""

  # Jobs first, so no slurmstepd outlives its slurmd.
  if [[ -n "$CTLD_PID" ]] && [[ -n "$(squeue -h -p bench -o %i 2>/dev/null | head -n 1)" ]]; then
    say "cancelling the jobs left in partition bench"
    scancel -p bench 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [[ -z "$(squeue -h -p bench -o %i 2>/dev/null | head -n 1)" ]] && break
      sleep 0.2
    done
  fi

  daemons=()
  for n in "${NODES[@]}"; do
    if pid="$(live_pid "$(slurmd_pid_file "$n")" slurmd)"; then daemons+=("slurmd $n=$pid"); fi
  done
  # slurmctld is told through its own RPC ("scontrol shutdown slurmctld" stops the controller only; plain
  # "shutdown" would also message the slurmd); stop() then waits for it (its SIGTERM means the same to slurmctld).
  if [[ -n "$CTLD_PID" ]]; then
    scontrol shutdown slurmctld >/dev/null 2>&1 || kill "$CTLD_PID" 2>/dev/null
    daemons+=("slurmctld=$CTLD_PID")
  fi
  ((${#daemons[@]} == 0)) || stop "${daemons[@]}"
fi

# munged last: the Slurm daemons use it until they exit.
if ((!KEEP_MUNGE)); then
  if pid="$(live_pid "$MUNGE_PID_FILE" munged)"; then stop "munged=$pid"; fi
fi

if ((PURGE)); then
  say "deleting $STATE"
  rm -rf "$STATE"
fi
