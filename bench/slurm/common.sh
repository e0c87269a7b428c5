# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by up.sh / down.sh / run-jobs.sh
# Shared settings for bench/slurm/{up,down,run-jobs}.sh. Sourced, never executed.
# Everything is derived from the repo location and a few env vars, so the three scripts always agree on
# where the state lives, which ports are used and which pid files to read.
#
#   SLURM_CPUS_PER_NODE        CPUs of each of the 4 fake nodes (default 2: 4 x 2 = 8 slots, like our 2 workers x 4 cpus)
#   SLURM_BENCH_STATE_DIR      state folder (default <repo>/.state/slurm)
#   SLURM_BENCH_CTLD_PORT      slurmctld port (default 16817; the stock one is 6817)
#   SLURM_BENCH_NODE_PORT_BASE first slurmd port; node nX listens on base+X-1 (default 16821..16824; stock is 6818)

SLURM_BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SLURM_BENCH_DIR/../.." && pwd -P)"

STATE="${SLURM_BENCH_STATE_DIR:-$REPO_ROOT/.state/slurm}"
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac

SLURM_CPUS_PER_NODE="${SLURM_CPUS_PER_NODE:-2}"
CTLD_PORT="${SLURM_BENCH_CTLD_PORT:-16817}"
NODE_PORT_BASE="${SLURM_BENCH_NODE_PORT_BASE:-16821}"
NODES=(n1 n2 n3 n4)

CONF="$STATE/slurm.conf"
RUN_DIR="$STATE/run"        # pid files
LOG_DIR="$STATE/log"        # daemon logs and the job completion log
CTLD_STATE_DIR="$STATE/ctld" # StateSaveLocation
SPOOL_DIR="$STATE/spool"    # SlurmdSpoolDir (one per node)

MUNGE_DIR="$STATE/munge"    # munged's own socket folder (mode 755), key, pid file, log, seed
MUNGE_SOCKET="$MUNGE_DIR/munge.socket.2"
MUNGE_KEY="$MUNGE_DIR/munge.key"
MUNGE_PID_FILE="$MUNGE_DIR/munged.pid"
MUNGE_LOG="$MUNGE_DIR/munged.log"
MUNGE_SEED="$MUNGE_DIR/munged.seed"

CTLD_PID_FILE="$RUN_DIR/slurmctld.pid"
CTLD_LOG="$LOG_DIR/slurmctld.log"
JOBCOMP_LOG="$LOG_DIR/jobcomp.log"
slurmd_pid_file() { echo "$RUN_DIR/slurmd.$1.pid"; } # <node>; matches SlurmdPidFile=.../slurmd.%n.pid
slurmd_log() { echo "$LOG_DIR/slurmd.$1.log"; }      # <node>
node_port() { echo $((NODE_PORT_BASE + ${1#n} - 1)); } # <node>

# Every Slurm command (daemons, sbatch, squeue, sinfo, scontrol) reads this conf, never /etc/slurm.
export SLURM_CONF="$CONF"

# The pid in <pidfile> if that process is alive and its command name is <comm>; nothing otherwise.
# Checking the name keeps a stale pid file from ever pointing us at someone else's process.
live_pid() { # <pidfile> <comm>
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(tr -dc 0-9 <"$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]] || return 1
  echo "$pid"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; } # <start>
