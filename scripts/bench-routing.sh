#!/usr/bin/env bash
# Routing-rule benchmark (not part of CI): the cost per request of evaluating 20 routing rules on the relay's
# in-memory snapshot, as RelayHandler does it. Builds scripts/bench-routing (Release, JIT) and prints the median ns per
# evaluation over several rounds. Usage: scripts/bench-routing.sh [rounds] [evaluations per round]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$root/scripts/bench-routing/Octopus.Bench.csproj" -c Release -p:AdminUiOptional=true -v quiet -nologo >/dev/null
exec dotnet "$root/scripts/bench-routing/bin/Release/net10.0/Octopus.Bench.dll" "$@"
