#!/usr/bin/env bash
# Smoke-tests release archives as a user would run them: unpack, check the sums, copy `octopus` alone into an empty
# directory and run `./octopus start` there. It must create data/config.json and data/data.db, answer /healthz and
# /readyz, serve the admin UI's index.html at `/`, and exit 0 on SIGTERM. linux-arm64 archives run under
# qemu-user-static on x64 (installed when missing).
#
#   scripts/smoke-release.sh [archive.tar.gz...]    default: every artifacts/release/octopus-*.tar.gz
#
# Talks only to 127.0.0.1; every wait is bounded. Ends with "N passed, N failed"; exit 1 when anything failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

archives=("$@")
if [ ${#archives[@]} -eq 0 ]; then
  shopt -s nullglob
  archives=("$root"/artifacts/release/octopus-*.tar.gz)
  shopt -u nullglob
fi
if [ ${#archives[@]} -eq 0 ]; then
  echo "smoke-release.sh: no archives (run scripts/publish.sh first)" >&2; exit 2
fi

passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
matches() { [[ $1 =~ $2 ]]; }

host_arch=$(uname -m)
need_qemu=0
for a in "${archives[@]}"; do
  case "$(basename "$a")" in *-linux-arm64.tar.gz|*-linux-arm64-lite.tar.gz) [ "$host_arch" = aarch64 ] || need_qemu=1 ;; esac
done
if [ $need_qemu = 1 ] && ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  echo "==> installing qemu-user-static"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq qemu-user-static >/dev/null
fi
if [ $need_qemu = 1 ] && [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  echo "smoke-release.sh: the arm64 loader is missing: apt-get install libc6-arm64-cross (publish.sh installs it)" >&2
  exit 2
fi

# GET http://127.0.0.1:$1$2 → sets http_status, http_type and http_body (first 64 KiB). Fails when nothing answers.
get() {
  http_status=""; http_type=""; http_body=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html,*/*\r\nConnection: close\r\n\r\n' "$2" >&3
  local line first=1 headers=1
  while IFS= read -r -t 10 line <&3 || [ -n "$line" ]; do
    line=${line%$'\r'}
    if [ $first = 1 ]; then http_status=$(echo "$line" | cut -d' ' -f2); first=0; continue; fi
    if [ $headers = 1 ]; then
      [ -z "$line" ] && { headers=0; continue; }
      case "${line,,}" in content-type:*) http_type=${line#*: } ;; esac
      continue
    fi
    http_body+="$line"$'\n'
    [ ${#http_body} -lt 65536 ] || break
  done
  exec 3<&- 3>&-
  [ -n "$http_status" ]
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
exec 9<> <(:)   # `read -t N -u 9` sleeps without forking

work_root=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work_root"; }
trap cleanup EXIT

for archive in "${archives[@]}"; do
  name=$(basename "$archive" .tar.gz)
  flavour=full
  case "$name" in *-lite) flavour=lite ;; esac
  rid=${name%-lite}; rid=${rid##*-linux-}; rid=linux-$rid
  echo "==> $name"
  run=()
  if [ "$rid" = linux-arm64 ] && [ "$host_arch" != aarch64 ]; then
    # LD_LIBRARY_PATH keeps libc beside its loader: without it qemu falls back to /lib/aarch64-linux-gnu, and once
    # Debian's libc6:arm64 is there (libsqlite3-dev:arm64 pulls it in) the cross loader meets a libc of another
    # build and pthread_create spins forever.
    run=(env QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib qemu-aarch64-static)
    wait_s=120
  else
    wait_s=30
  fi

  sums="$(dirname "$archive")/SHA256SUMS"
  if [ -f "$sums" ]; then
    check "archive matches $(basename "$(dirname "$archive")")/SHA256SUMS" \
      bash -c "cd '$(dirname "$archive")' && grep ' $(basename "$archive")\$' SHA256SUMS | sha256sum -c --status"
  fi
  unpacked="$work_root/$name-unpacked"
  mkdir -p "$unpacked"
  if ! tar -xzf "$archive" -C "$unpacked"; then fail "$name unpacks"; continue; fi
  dir="$unpacked/$name"
  check "archive holds octopus, README.md, config.json.example, SHA256SUMS" \
    test -x "$dir/octopus" -a -f "$dir/README.md" -a -f "$dir/config.json.example" -a -f "$dir/SHA256SUMS"
  check "SHA256SUMS inside the archive verifies" bash -c "cd '$dir' && sha256sum -c --status SHA256SUMS"
  check "binary links no SQLite library (it is static)" \
    bash -c "! readelf -d '$dir/octopus' | grep -i 'NEEDED.*sqlite'"

  version_line=$(timeout "$wait_s" "${run[@]}" "$dir/octopus" version 2>&1)
  expected_version=${name#octopus-}; expected_version=${expected_version%-linux-*}
  check "octopus version prints '$version_line'" \
    matches "$version_line" "^octopus ${expected_version//./\\.} \\(commit [0-9a-f]{7,}(-dirty)?, built [0-9]{4}-[0-9]{2}-[0-9]{2}T"
  if [ "$flavour" = lite ]; then
    check "lite version line says SQLite only" matches "$version_line" "databases: SQLite only \\(lite build\\)"
    # The lite build refuses a server database with a clear one-line error, before touching anything.
    refuse="$work_root/$name-refuse"; mkdir -p "$refuse"
    refusal=$(cd "$refuse" && OCTOPUS_DATABASE_TYPE=postgres OCTOPUS_DATABASE_URL=postgresql://u:p@127.0.0.1:1/db \
      timeout "$wait_s" "${run[@]}" "$dir/octopus" start 2>&1); rc=$?
    check "lite build refuses database.type=postgres with exit 1 (got $rc)" test "$rc" = 1
    check "lite refusal names the full build ('$(echo "$refusal" | tail -1)')" matches "$refusal" "needs the full build"
  else
    check "full version line lists PostgreSQL and MySQL" matches "$version_line" "databases: SQLite, PostgreSQL, MySQL"
  fi

  # An empty directory with nothing but the binary.
  cwd="$work_root/$name-run"
  mkdir -p "$cwd"
  cp "$dir/octopus" "$cwd/octopus"
  port=$(free_port)
  (cd "$cwd" && OCTOPUS_SERVER_HOST=127.0.0.1 OCTOPUS_SERVER_PORT=$port exec "${run[@]}" ./octopus start >octopus.log 2>&1) &
  pid=$!
  started=$(date +%s)
  up=0
  while [ $(( $(date +%s) - started )) -lt "$wait_s" ]; do
    if get "$port" /healthz && [ "$http_status" = 200 ]; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    read -t 0.05 -u 9 || true
  done
  if [ $up = 0 ]; then
    fail "./octopus start answers /healthz within ${wait_s}s"
    sed 's/^/    | /' "$cwd/octopus.log"
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
    continue
  fi
  ok "./octopus start answers /healthz 200 after $(( $(date +%s) - started ))s"
  check "first start created data/config.json" test -s "$cwd/data/config.json"
  check "first start created data/data.db" test -s "$cwd/data/data.db"
  get "$port" /readyz
  check "/readyz answers 200 (database reachable)" test "$http_status" = 200

  get "$port" /
  check "GET / answers 200 (got ${http_status:-nothing})" test "$http_status" = 200
  check "GET / is text/html (got '${http_type}')" matches "${http_type,,}" '^text/html' 
  if [[ $http_body == *'<div id="app"'* ]]; then ok "GET / serves the admin UI's index.html"; else fail "GET / serves the admin UI's index.html (no <div id=\"app\" in the body)"; fi

  kill -TERM "$pid"
  rc=""
  for _ in $(seq 1 $(( wait_s * 10 ))); do
    kill -0 "$pid" 2>/dev/null || break
    read -t 0.1 -u 9 || true
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    fail "SIGTERM stops octopus within ${wait_s}s"
  else
    wait "$pid"; rc=$?
    check "SIGTERM exits 0 (got $rc)" test "$rc" = 0
  fi
  pid=""
  if grep -qiE "unhandled|fail:|crit:" "$cwd/octopus.log"; then
    fail "log has no errors"; sed 's/^/    | /' "$cwd/octopus.log"
  else
    ok "log has no errors"
  fi
done

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
