#!/usr/bin/env bash
# Installs the Debian packages the build needs (idempotent): static SQLite for the single-file binary,
# a C toolchain and zlib for Native AOT linking. Tests' database servers come from scripts/test-dbs.sh.
set -euo pipefail

need=()
# Qualified by architecture: once arm64 packages are added (scripts/publish.sh), the bare name is ambiguous.
arch=$(dpkg --print-architecture)
dpkg -s "libsqlite3-dev:$arch" >/dev/null 2>&1 || need+=(libsqlite3-dev)
dpkg -s "zlib1g-dev:$arch" >/dev/null 2>&1 || need+=(zlib1g-dev)
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need+=(clang)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
