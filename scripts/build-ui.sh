#!/usr/bin/env bash
# Builds the admin panel bundle (Octopus.Admin.Ui/dist) that the octopus binary embeds.
# Idempotent and fast when nothing changed:
#   - `npm ci` only when node_modules does not match package-lock.json (hash stamp);
#   - `npm run build` only when a source file is newer than the last build (or dist is missing).
# Usage: scripts/build-ui.sh [--force]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ui="$root/Octopus.Admin.Ui"
force=0
[[ "${1:-}" == "--force" ]] && force=1

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build-ui: node and npm are required (Node 20.19+). Install Node.js, then rerun scripts/build-ui.sh." >&2
  exit 1
fi

cd "$ui"

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.octopus-lock-sha256"
if [[ $force == 1 || ! -f "$stamp" || "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]]; then
  echo "build-ui: installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# Vite empties dist and writes index.html on every build, so index.html dates the last good build.
built="dist/index.html"
needs_build=$force
if [[ ! -f "$built" || ! -f dist/index.html.br ]]; then
  needs_build=1
elif [[ -n "$(find src public index.html vite.config.ts svelte.config.js tsconfig.json package.json package-lock.json scripts \
              -newer "$built" -print -quit 2>/dev/null)" ]]; then
  needs_build=1
fi

if [[ $needs_build == 1 ]]; then
  echo "build-ui: building the bundle (npm run build)"
  npm run build --silent
else
  echo "build-ui: bundle up to date ($ui/dist)"
fi
