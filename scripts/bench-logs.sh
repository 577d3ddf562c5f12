#!/usr/bin/env bash
# Request-log insert benchmark (not part of CI): CPU per row of the store's SQLite batch insert beside the same rows
# through a prepared Microsoft.Data.Sqlite command. Builds scripts/bench-logs (Release, JIT) and prints medians.
# Usage: scripts/bench-logs.sh [batches]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$root/scripts/bench-logs/Octopus.Bench.csproj" -c Release -p:AdminUiOptional=true -v quiet -nologo >/dev/null
exec dotnet "$root/scripts/bench-logs/bin/Release/net10.0/Octopus.Bench.dll" "$@"
