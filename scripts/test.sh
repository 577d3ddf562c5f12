#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine, starts PostgreSQL and MariaDB,
# builds the UI, runs every test (C#, UI unit tests, SDK end-to-end), AOT-publishes with warnings as errors, and drives
# the published binary's admin UI in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
start=$(date +%s)
step() { echo; echo "==> [$(( $(date +%s) - start ))s] $*"; }

step "dependencies"
scripts/install-deps.sh
if [ -x scripts/test-dbs.sh ]; then
  step "database servers"
  scripts/test-dbs.sh
fi
if [ -x scripts/build-ui.sh ]; then
  step "admin UI build"
  scripts/build-ui.sh
fi
if [ -f Octopus.Admin.Ui/package.json ] && grep -q '"test"' Octopus.Admin.Ui/package.json; then
  step "admin UI unit tests"
  (cd Octopus.Admin.Ui && npm test --silent)
fi
if [ -f Octopus.Tests/Sdk/package.json ]; then
  step "SDK clients (npm)"
  (cd Octopus.Tests/Sdk && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
fi

step "tests"
dotnet test Octopus.sln -c Release --nologo --logger "console;verbosity=minimal" -- RunConfiguration.TreatNoTestsAsError=true

step "lite build compiles (SQLite only: -p:OctopusDatabases=sqlite)"
dotnet build Octopus/Octopus.csproj -c Release -nologo -v:q -p:OctopusDatabases=sqlite -o artifacts/lite-build

step "AOT publish (warnings are errors)"
scripts/publish-check.sh

step "admin UI end to end (real AOT binary, headless Chromium)"
OCTOPUS_BIN="$root/artifacts/publish-check/octopus" scripts/ui-e2e.sh --screenshots artifacts/screenshots

step "all green in $(( $(date +%s) - start ))s"
