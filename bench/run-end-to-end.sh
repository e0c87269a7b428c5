#!/usr/bin/env bash
# End-to-end benchmark (issue 6): brings the system up with ./bus up (no demo jobs), then drives it over HTTP
# with Bus.Bench end-to-end and prints throughput, latency percentiles, invariants and per-service resource use.
#
#   bench/run-end-to-end.sh [--jobs 10000] [--concurrency 32] [--service noop|shell] [--warmup 300]
#
# The system stays up afterwards (./bus down stops it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BUS_NO_DEMO=1 "$ROOT/bus" up >&2
# shellcheck source=/dev/null
source "$ROOT/.state/env"
echo "==> building bench (Release)" >&2
dotnet build "$ROOT/bench/Bus.Bench/Bus.Bench.csproj" -c Release -nologo -v quiet >&2
exec dotnet "$ROOT/bench/Bus.Bench/bin/Release/net10.0/Bus.Bench.dll" end-to-end "$@"
