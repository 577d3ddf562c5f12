#!/usr/bin/env bash
# The admin panel end to end against the real gateway (issue 5): headless Chromium (Debian's chromium, driven by npm
# playwright-core) signs in, changes the default password, saves settings, syncs prices, creates a channel on a mock
# upstream, a group and an API key, sends relay requests with that key, finds them on the Logs page and in the
# Dashboard totals, and loads every page at desktop and 375 px in light and dark theme with no console error.
# Screenshots go to docs/screenshots/. Exits non-zero on any failure. Talks to 127.0.0.1 only.
#
# Usage: scripts/ui-e2e.sh [--no-screenshots] [--screenshots DIR] [--keep]
#   OCTOPUS_BIN=artifacts/octopus scripts/ui-e2e.sh   drive that binary (e.g. the AOT publish) instead of the
#                                                     Release build run with `dotnet octopus.dll`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
step() { echo "==> [ui-e2e $(( $(date +%s) - start ))s] $*"; }

# Debian's Chromium, and a CJK font so the language switch (中文) renders in screenshots.
need=()
command -v "${CHROMIUM_PATH:-chromium}" >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"

step "admin UI bundle (npm ci when needed)"
scripts/build-ui.sh

if [ -n "${OCTOPUS_BIN:-}" ]; then
  [ -x "$OCTOPUS_BIN" ] || { echo "ui-e2e: OCTOPUS_BIN=$OCTOPUS_BIN is not an executable" >&2; exit 1; }
  export OCTOPUS_BIN="$(cd "$(dirname "$OCTOPUS_BIN")" && pwd)/$(basename "$OCTOPUS_BIN")"
  step "gateway: $OCTOPUS_BIN"
else
  step "gateway: dotnet build Octopus -c Release"
  dotnet build Octopus/Octopus.csproj -c Release --nologo -v quiet -clp:ErrorsOnly
fi

step "end-to-end run in headless Chromium"
# e2e.mjs bounds every wait and gives up by itself after 4 minutes; timeout is the last resort.
timeout --kill-after=10 300 node Octopus.Admin.Ui/e2e/e2e.mjs "$@"
step "passed"
