#!/usr/bin/env bash
# Builds and starts the gateway on the embedded SQLite default (data/config.json and data/data.db in the
# current directory). Extra arguments go to `octopus start`, e.g. scripts/run.sh --config my.json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
[ -x "$root/scripts/build-ui.sh" ] && "$root/scripts/build-ui.sh"
dotnet build "$root/Octopus/Octopus.csproj" -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/Octopus/bin/Release/net10.0/octopus.dll" start "$@"
