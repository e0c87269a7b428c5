# shellcheck shell=bash
# Shared by the bench/run-*.sh scripts; sourced, never executed. Where things are, starting what does not answer,
# and building the benchmark program, so each script says only what it measures.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ENV_FILE="$ROOT/.state/env"
BENCH_DLL="$ROOT/bench/Bus.Bench/bin/Release/net10.0/Bus.Bench.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The infrastructure only (RabbitMQ, Redis standalone and cluster, PostgreSQL): started with infra/up.sh (idempotent)
# unless every server answers on its port, then .state/env is loaded. The ports default as in infra/common.sh.
ensure_infrastructure() {
  local cluster_ports="${BUS_REDIS_CLUSTER_PORTS:-7100 7101 7102 7103 7104 7105}" port
  for port in "${BUS_RABBIT_PORT:-5682}" "${BUS_REDIS_PORT:-6390}" "${BUS_PG_PORT:-5442}" "${cluster_ports%% *}"; do
    if [[ ! -f "$ENV_FILE" ]] || ! answers "$port"; then
      echo "==> infrastructure not answering (port $port); starting it with infra/up.sh" >&2
      "$ROOT/infra/up.sh" >&2
      break
    fi
  done
  # shellcheck source=/dev/null
  source "$ENV_FILE"
}

# The whole system, as ./bus up starts it without demo jobs (idempotent: starts only what does not run), then
# .state/env is loaded.
ensure_system() {
  # shellcheck disable=SC2086 # BUS_UP_ARGS is a list of ./bus up options, e.g. --two
  BUS_NO_DEMO=1 "$ROOT/bus" up ${BUS_UP_ARGS:-} >&2
  # shellcheck source=/dev/null
  source "$ENV_FILE"
}

build_bench() {
  echo "==> building bench (Release)" >&2
  dotnet build "$ROOT/bench/Bus.Bench/Bus.Bench.csproj" -c Release -nologo -v quiet -clp:NoSummary >&2
}
