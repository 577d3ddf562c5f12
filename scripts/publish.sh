#!/usr/bin/env bash
# Builds the release archives: one Native-AOT single-file `octopus` per runtime identifier and flavour, each packed
# with a README, config.json.example and SHA256SUMS into artifacts/release/octopus-VERSION-RID[-lite].tar.gz (sums of
# the archives in artifacts/release/SHA256SUMS). Prints the figures: binary size, exec → /readyz time, idle RSS.
# Flavours: `full` (SQLite, PostgreSQL, MySQL/MariaDB) and `lite` (SQLite only, -p:OctopusDatabases=sqlite: the two
# server drivers are left out, about 6 MB less). OCTOPUS_FLAVOURS="full lite" (default) picks them.
#
#   scripts/publish.sh [rid...]        default: linux-x64 linux-arm64
#
# linux-arm64 is cross-compiled on x64 Debian (clang + lld + Debian's arm64 cross packages). The script installs
# what it needs (Debian 12, root or sudo). Environment: OCTOPUS_VERSION overrides the version (default: the
# v-tag on HEAD, else <Version> in Octopus/Octopus.csproj); SOURCE_DATE_EPOCH fixes the build date.
# Then run scripts/smoke-release.sh to test every archive (arm64 under qemu-user-static).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)
read -r -a flavours <<<"${OCTOPUS_FLAVOURS:-full lite}"
for flavour in "${flavours[@]}"; do
  case "$flavour" in full|lite) ;; *) echo "publish.sh: unknown flavour '$flavour' in OCTOPUS_FLAVOURS (full, lite)" >&2; exit 2 ;; esac
done
for rid in "${rids[@]}"; do
  case "$rid" in
    linux-x64|linux-arm64) ;;
    *) echo "publish.sh: unsupported runtime identifier '$rid' (linux-x64, linux-arm64; musl builds: Dockerfile.alpine)" >&2; exit 2 ;;
  esac
done

host_rid=linux-x64
case "$(uname -m)" in aarch64|arm64) host_rid=linux-arm64 ;; esac

# ---- build dependencies -------------------------------------------------------------------------------------
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
apt_install() {
  echo "==> installing $*"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

scripts/install-deps.sh   # native toolchain, libsqlite3-dev (static SQLite for linux-x64), node for the UI
for rid in "${rids[@]}"; do
  [ "$rid" = linux-arm64 ] && [ "$host_rid" != linux-arm64 ] || continue
  # Cross toolchain: clang drives lld; objcopy strips the arm64 symbols into octopus.dbg.
  need=()
  for p in clang lld gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross; do
    installed "$p" || need+=("$p")
  done
  # Static SQLite for arm64 from Debian's arm64 architecture: /usr/lib/aarch64-linux-gnu/libsqlite3.a
  if ! installed libsqlite3-dev:arm64; then
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    need+=(libsqlite3-dev:arm64)
  fi
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
done

# ---- version, commit, date ----------------------------------------------------------------------------------
version="${OCTOPUS_VERSION:-}"
if [ -z "$version" ]; then
  tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || true)
  version="${tag#v}"
fi
if [ -z "$version" ]; then
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Octopus/Octopus.csproj | head -1)
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then commit="$commit-dirty"; fi
epoch="${SOURCE_DATE_EPOCH:-$(date +%s)}"
build_date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
echo "==> octopus $version (commit $commit, built $build_date) for ${rids[*]}"

# ---- admin UI -----------------------------------------------------------------------------------------------
# The binary embeds Octopus.Admin.Ui/dist; build it first when the UI is part of this tree.
if [ -x scripts/build-ui.sh ] && [ -f Octopus.Admin.Ui/package.json ]; then
  scripts/build-ui.sh
fi

# ---- publish and pack ---------------------------------------------------------------------------------------
release="$root/artifacts/release"
mkdir -p "$release"
archives=()
builds=()
for rid in "${rids[@]}"; do
for flavour in "${flavours[@]}"; do
  suffix=""; [ "$flavour" = lite ] && suffix="-lite"
  builds+=("$rid$suffix")
  out="$root/artifacts/publish/$rid$suffix"
  rm -rf "$out"
  extra=()
  if [ "$rid" = linux-arm64 ] && [ "$host_rid" != linux-arm64 ]; then
    extra=(-p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  [ "$flavour" = lite ] && extra+=(-p:OctopusDatabases=sqlite)
  echo "==> dotnet publish $rid ($flavour)"
  log="$root/artifacts/publish/$rid$suffix.log"
  mkdir -p "$(dirname "$log")"
  started=$(date +%s)
  if ! dotnet publish Octopus/Octopus.csproj -c Release -r "$rid" -o "$out" -nologo \
      -p:TreatWarningsAsErrors=true -p:Version="$version" -p:SourceRevisionId="$commit" -p:BuildDate="$build_date" \
      "${extra[@]}" >"$log" 2>&1; then
    cat "$log"; echo "publish.sh: dotnet publish $rid failed (log: $log)" >&2; exit 1
  fi
  if grep -E "warning (IL[23][0-9]{3})" "$log"; then
    echo "publish.sh: $rid printed trim/AOT warnings (log: $log)" >&2; exit 1
  fi
  echo "    built in $(( $(date +%s) - started ))s"

  name="octopus-$version-$rid$suffix"
  stage="$root/artifacts/publish/$name"
  rm -rf "$stage"; mkdir -p "$stage"
  install -m 0755 "$out/octopus" "$stage/octopus"
  install -m 0644 config.json.example "$stage/config.json.example"
  {
    cat <<EOF
# Octopus $version ($rid$([ "$flavour" = lite ] && echo ", lite: SQLite only"))

Commit $commit, built $build_date. A self-hosted LLM API gateway in one file: \`octopus\` needs nothing beside it
(SQLite is linked in; HTTPS to upstreams uses the system's OpenSSL 3 or 1.1 and CA certificates).
$([ "$flavour" = lite ] && echo "This lite build stores its data in SQLite only; for PostgreSQL or MySQL/MariaDB take the archive without -lite.")

## Quick start

    sha256sum -c SHA256SUMS
    ./octopus start

The first start writes \`data/config.json\` and \`data/data.db\` in the current directory and listens on
http://0.0.0.0:8080 (admin panel at \`/\`). Settings come from \`data/config.json\` (see \`config.json.example\`)
or environment variables, e.g. \`OCTOPUS_SERVER_PORT=9090 OCTOPUS_ADMIN_PASSWORD=... ./octopus start\`.
\`./octopus version\` prints the version; SIGTERM or Ctrl+C stops it cleanly.

---

EOF
    cat README.md
  } >"$stage/README.md"
  (cd "$stage" && sha256sum octopus README.md config.json.example >SHA256SUMS)

  archive="$release/$name.tar.gz"
  # Fixed owner and times: the same inputs give the same archive.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$root/artifacts/publish" -cf - "$name" \
    | gzip -9n >"$archive"
  archives+=("$archive")
  echo "    $archive"
done
done

# Sums of every archive present (earlier runs for other RIDs included).
(cd "$release" && sha256sum octopus-*.tar.gz >SHA256SUMS)

# ---- figures ------------------------------------------------------------------------------------------------
# Time from exec to the first 200 from /readyz (polled every ~2 ms without forking), and resident memory once idle.
probe() { # port path → success when the answer is 200
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
  local line=""
  IFS= read -r -t 5 line <&3 || true
  exec 3<&- 3>&-
  [[ $line == "HTTP/1.1 200"* ]]
}
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    { exec 4<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null && { exec 4<&- 4>&-; continue; }
    echo "$p"; return 0
  done
  return 1
}
micros() { echo "${EPOCHREALTIME/./}"; }
exec 9<> <(:)   # an fd that never has data: `read -t` on it is a sleep without a fork

# Starts the binary in $1 (its working directory), waits for /readyz; sets ready_ms and pid. Bounded to 60 s.
start_and_time() {
  local dir=$1 port; port=$(free_port)
  local t0; t0=$(micros)
  (cd "$dir" && OCTOPUS_SERVER_HOST=127.0.0.1 OCTOPUS_SERVER_PORT=$port exec ./octopus start >>octopus.log 2>&1) &
  pid=$!
  local deadline=$(( t0 + 60000000 ))
  until probe "$port" /readyz; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "octopus exited before /readyz answered:"; cat "$dir/octopus.log"; return 1; fi
    if [ "$(micros)" -gt "$deadline" ]; then echo "no /readyz after 60 s"; kill -KILL "$pid"; return 1; fi
    read -t 0.002 -u 9 || true
  done
  ready_ms=$(( ($(micros) - t0) / 1000 ))
}
stop() { kill -TERM "$pid"; wait "$pid" || { echo "octopus exited with $? on SIGTERM"; return 1; }; }

figures="$release/FIGURES.txt"
: >"$figures"
report() { echo "$*" | tee -a "$figures"; }
report "octopus $version (commit $commit, built $build_date)"
for build in "${builds[@]}"; do
  rid=${build%-lite}
  bin="$root/artifacts/publish/octopus-$version-$build/octopus"
  bytes=$(stat -c %s "$bin")
  report "$build binary: $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB, %.1f MiB", b / 1e6, b / 1048576 }'))"
  [ "$rid" = "$host_rid" ] || { report "$build start time and RSS: not measured (not this machine's architecture; see scripts/smoke-release.sh)"; continue; }

  work=$(mktemp -d); cp "$bin" "$work/octopus"
  start_and_time "$work"; first_ms=$ready_ms; stop
  runs=()
  for _ in 1 2 3 4 5; do start_and_time "$work"; runs+=("$ready_ms"); stop; done
  start_and_time "$work"; read -t 3 -u 9 || true
  rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"); stop
  median=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
  report "$build exec → /readyz: first start ${first_ms} ms (writes config, creates and migrates data.db); later starts median ${median} ms (runs: ${runs[*]} ms)"
  report "$build idle RSS: $(( rss_kb / 1024 )) MiB ($rss_kb kB, 3 s after /readyz)"
  rm -rf "$work"
done
echo "==> archives in $release (figures in $figures); next: scripts/smoke-release.sh"
