#!/usr/bin/env bash
# Relay benchmark (not part of CI). Starts a fixed-reply upstream (nginx serving canned OpenAI JSON, a 52-event
# OpenAI SSE stream and an Anthropic SSE stream), a plain nginx reverse proxy to it as the floor, and the AOT-published
# Octopus with one-member groups on it; drives each with wrk (POST, 32 connections) and prints requests/s and p50/p99
# for direct / nginx / Octopus, non-stream and stream, a converted row (OpenAI client -> Anthropic channel, streamed),
# Octopus with stats and logs off, the sequential per-request overhead over going direct, and Octopus's RSS.
# The ".NET floor" rows are scripts/bench-floor (AOT, no auth, no parsing, no stats), so the gap to nginx splits into
# what the platform costs and what the relay adds: Kestrel + HttpClient forwarding, Kestrel + a bare HTTP/1.1 client on
# pooled sockets ("socket floor"), and Kestrel answering from memory with no upstream at all ("Kestrel alone").
# The CPU column is the serving process's own CPU time per request (utime+stime from /proc; nginx's proxy worker,
# the floor, Octopus), the other processes on the two cores left out.
# Stats and logs on vs off: two Octopus instances side by side (one with OCTOPUS_STATS_ENABLED=false), warmed up alike
# and driven back to back in BENCH_STATS_ROUNDS rounds (which goes first alternates); prints the median requests/s of
# each, the median of the rounds' on/off ratios, and the CPU time each process spent per request (utime+stime from
# /proc, the log writer's background inserts included).
# Usage: scripts/bench.sh   env: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (32), BENCH_ROUNDS (7), BENCH_STATS_ROUNDS (5),
#   BENCH_BINARY (an octopus executable to measure instead of the AOT publish of this checkout),
#   BENCH_PERF (a file: record a system-wide perf profile during Octopus's non-stream run; read it with perf report -i),
#   BENCH_ONLY=stats (only the stats and logs on vs off comparison)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${BENCH_SECONDS:-10}"
conns="${BENCH_CONNECTIONS:-32}"
rounds="${BENCH_ROUNDS:-7}"
stats_rounds="${BENCH_STATS_ROUNDS:-5}"
only="${BENCH_ONLY:-all}"
case "$only" in all|stats) ;; *) echo "BENCH_ONLY=$only is not one of: all, stats" >&2; exit 2;; esac
UP=18801; PROXY=18802; OCT=18803; OCT_OFF=18804; FLOOR=18805

source "$root/scripts/bench-upstream.sh"
bench_deps

bin="${BENCH_BINARY:-$root/artifacts/publish-check/octopus}"
if [ -z "${BENCH_BINARY:-}" ] && { [ ! -x "$bin" ] || [ -n "$(find "$root/Octopus" -name '*.cs' -newer "$bin" -print -quit)" ]; }; then
  "$root/scripts/build-ui.sh" >/dev/null
  "$root/scripts/publish-check.sh" >/dev/null
fi

floor_bin="$root/artifacts/bench-floor/bench-floor"
if [ "$only" = all ] && { [ ! -x "$floor_bin" ] || [ -n "$(find "$root/scripts/bench-floor" -maxdepth 1 -newer "$floor_bin" -print -quit)" ]; }; then
  dotnet publish "$root/scripts/bench-floor/Octopus.BenchFloor.csproj" -c Release -r linux-x64 -o "$root/artifacts/bench-floor" -nologo -v quiet >/dev/null
fi

work=$(mktemp -d /tmp/octopus-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as nobody and must read the canned replies
oct_pid=""; off_pid=""; floor_pid=""
cleanup() {
  [ -n "$oct_pid" ] && kill "$oct_pid" 2>/dev/null || true
  [ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null || true
  [ -n "$off_pid" ] && kill "$off_pid" 2>/dev/null || true
  for conf in "$work"/nginx-*.conf; do [ -f "$conf" ] && nginx -c "$conf" -p "$work" -s stop 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www"
bench_payloads "$work/www"

bench_nginx "$work" upstream "  server {
    listen 127.0.0.1:$UP;
    root $work/www;
    location = /json/v1/chat/completions { default_type application/json; error_page 405 =200 /openai.json; return 405; }
    location = /sse/v1/chat/completions { default_type text/event-stream; error_page 405 =200 /openai.sse; return 405; }
    location = /anthropic/v1/messages { default_type text/event-stream; error_page 405 =200 /anthropic.sse; return 405; }
    location = /openai.json { internal; }
    location = /openai.sse { internal; default_type text/event-stream; }
    location = /anthropic.sse { internal; default_type text/event-stream; }
  }"
bench_nginx "$work" proxy "  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$PROXY;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; }
  }"

start_octopus() { # $1 = stats enabled (true|false), $2 = port; prints the pid
  local dir="$work/oct-$2"
  mkdir -p "$dir"
  (cd "$dir" && OCTOPUS_SERVER_HOST=127.0.0.1 OCTOPUS_SERVER_PORT=$2 OCTOPUS_LOG_LEVEL=warn OCTOPUS_STATS_ENABLED="$1" \
    OCTOPUS_ADMIN_PASSWORD=bench-password-1 exec "$bin" start >"$dir/octopus.log" 2>&1) &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && { echo "$pid"; return 0; }; sleep 0.1; done
  echo "octopus did not start:" >&2; cat "$dir/octopus.log" >&2; exit 1
}

setup_octopus() { # $1 = port; configures the bench groups and prints a client key
  local base="http://127.0.0.1:$1" token
  token=$(curl -sf -H 'Content-Type: application/json' -d '{"username":"admin","password":"bench-password-1"}' "$base/api/v1/auth/login" | jq -r .token)
  api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
  channel() { api -d "{\"name\":\"$1\",\"type\":\"$2\",\"base_urls\":[\"$3\"],\"keys\":[\"sk-bench\"],\"models\":[\"bench-model\"]}" "$base/api/v1/channels" | jq -r .id; }
  group() { api -d "{\"name\":\"$1\",\"mode\":\"failover\",\"members\":[{\"channel_id\":$2,\"model\":\"bench-model\",\"priority\":0,\"weight\":1}]}" "$base/api/v1/groups" >/dev/null; }
  group bench "$(channel json openai "http://127.0.0.1:$UP/json/v1")"
  group bench-stream "$(channel sse openai "http://127.0.0.1:$UP/sse/v1")"
  group bench-convert "$(channel anth anthropic "http://127.0.0.1:$UP/anthropic/v1")"
  api -d '{"name":"bench"}' "$base/api/v1/api-keys" | jq -r .key
}

if [ "$only" = all ]; then
  # Inline socket completions, as Octopus runs by default (server.inline_completions). No config file watching: ASP.NET
  # would watch the working directory's whole tree, and every write under it (Octopus's WAL, if it lay there) would
  # queue an inotify event.
  (UPSTREAM_BASE="http://127.0.0.1:$UP" CANNED_DIR="$work/www" ASPNETCORE_URLS="http://127.0.0.1:$FLOOR" DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
    DOTNET_hostBuilder__reloadConfigOnChange=false \
    exec "$floor_bin" >"$work/floor.log" 2>&1) &
  floor_pid=$!
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -d '{}' "http://127.0.0.1:$FLOOR/json/v1/chat/completions")" = 200 ] && break
    kill -0 "$floor_pid" 2>/dev/null || { echo "the .NET floor did not start (port $FLOOR taken?):" >&2; cat "$work/floor.log" >&2; exit 1; }
    sleep 0.1
  done
fi
oct_pid=$(start_octopus true "$OCT")
off_pid=$(start_octopus false "$OCT_OFF")
key=$(setup_octopus "$OCT")
key_off=$(setup_octopus "$OCT_OFF")

lua() { # $1 = file, $2 = model, $3 = stream, $4 = client key
  cat > "$1" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"$2","stream":$3,"messages":[{"role":"user","content":"Say hello"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $4"
EOF
}
lua "$work/json.lua" bench false "$key"
lua "$work/sse.lua" bench-stream true "$key"
lua "$work/convert.lua" bench-convert true "$key"
lua "$work/json-off.lua" bench false "$key_off"
lua "$work/sse-off.lua" bench-stream true "$key_off"

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
results="$work/results.txt"
last_requests=0
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() { # $1 = label, $2 = lua, $3 = url, $4 = the serving process's pid (optional: its CPU time per request)
  local before="" after cpu=-
  [ -n "${4:-}" ] && before=$(cpu_ticks "$4")
  local out; out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$2" "$3")
  if echo "$out" | grep -q "Non-2xx"; then { echo "$1: non-2xx answers:"; echo "$out"; } >&2; exit 1; fi
  local rps p50 p99
  last_requests=$(echo "$out" | awk '/requests in/ {print $1}')
  if [ -n "$before" ]; then
    after=$(cpu_ticks "$4")
    cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$last_requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
  printf "%-38s %10s %10s %10s %10s\n" "$1" "$rps" "$p50" "$p99" "$cpu" | tee -a "$results"
}

echo
printf "%-38s %10s %10s %10s %10s\n" "run (wrk -c$conns, ${secs}s)" "req/s" "p50 ms" "p99 ms" "CPU us/req" | tee "$results"
if [ "$only" = all ]; then
proxy_pid=$(pgrep -P "$(cat "$work/proxy.pid")" | head -1) # the nginx proxy's worker
run "direct, non-stream"                "$work/json.lua" "http://127.0.0.1:$UP/json/v1/chat/completions"
run "nginx proxy, non-stream"           "$work/json.lua" "http://127.0.0.1:$PROXY/json/v1/chat/completions" "$proxy_pid"
run "Kestrel alone, non-stream"          "$work/json.lua" "http://127.0.0.1:$FLOOR/canned/json/v1/chat/completions" "$floor_pid"
run ".NET socket floor, non-stream"      "$work/json.lua" "http://127.0.0.1:$FLOOR/socket/json/v1/chat/completions" "$floor_pid"
run ".NET floor, non-stream"             "$work/json.lua" "http://127.0.0.1:$FLOOR/json/v1/chat/completions" "$floor_pid"
if [ -n "${BENCH_PERF:-}" ]; then # profile Octopus (whole system, call graphs) during its non-stream run
  perf record -a -g -F 999 -e cpu-clock -o "$BENCH_PERF" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
fi
run "octopus, non-stream"               "$work/json.lua" "http://127.0.0.1:$OCT/v1/chat/completions" "$oct_pid"
[ -n "${BENCH_PERF:-}" ] && wait "$perf_pid"
run "direct, stream (52 events)"        "$work/sse.lua"  "http://127.0.0.1:$UP/sse/v1/chat/completions"
run "nginx proxy, stream"               "$work/sse.lua"  "http://127.0.0.1:$PROXY/sse/v1/chat/completions" "$proxy_pid"
run "Kestrel alone, stream"              "$work/sse.lua"  "http://127.0.0.1:$FLOOR/canned/sse/v1/chat/completions" "$floor_pid"
run ".NET socket floor, stream"          "$work/sse.lua"  "http://127.0.0.1:$FLOOR/socket/sse/v1/chat/completions" "$floor_pid"
run ".NET floor, stream"                 "$work/sse.lua"  "http://127.0.0.1:$FLOOR/sse/v1/chat/completions" "$floor_pid"
run "octopus, stream"                   "$work/sse.lua"  "http://127.0.0.1:$OCT/v1/chat/completions" "$oct_pid"
run "octopus, OpenAI->Anthropic stream" "$work/convert.lua" "http://127.0.0.1:$OCT/v1/chat/completions" "$oct_pid"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$oct_pid/status")

# Sequential overhead: one keep-alive connection each, direct and through Octopus interleaved round by round.
body='{"model":"bench","stream":false,"messages":[{"role":"user","content":"Say hello"}]}'
seq_times() { # $1 = url, prints one time_total (seconds) per request over one connection
  local args=()
  for _ in $(seq 1 25); do args+=("$1"); done
  curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' -H "Authorization: Bearer $key" --data "$body" "${args[@]}"
}
direct_meds=(); oct_meds=()
for _ in $(seq 1 "$rounds"); do
  direct_meds+=("$(seq_times "http://127.0.0.1:$UP/json/v1/chat/completions" | median)")
  oct_meds+=("$(seq_times "http://127.0.0.1:$OCT/v1/chat/completions" | median)")
done
d=$(printf '%s\n' "${direct_meds[@]}" | median)
o=$(printf '%s\n' "${oct_meds[@]}" | median)
overhead=$(awk -v o="$o" -v d="$d" 'BEGIN {printf "%.3f", (o-d)*1000}')
fi

stats_run() { # $1 = label, $2 = lua, $3 = port, $4 = pid; appends "rps cpu_us_per_request" to $work/stats-$1
  local before after rps
  sleep 1 # the previous run's last log batch is written before this run's CPU is counted
  before=$(cpu_ticks "$4")
  run "$1" "$2" "http://127.0.0.1:$3/v1/chat/completions" >/dev/null
  rps=$(tail -1 "$results" | awk '{print $(NF-3)}')
  sleep 1.5 # this run's last log batch (200 ms coalescing + insert) is part of its cost
  after=$(cpu_ticks "$4")
  echo "$rps $(awk -v t=$((after - before)) -v hz="$hz" -v n="$last_requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')" >> "$work/stats-$1"
}
echo >> "$results"
# Both instances get the same warm-up (in the full run the stats-on one has also served the runs above), then each
# round runs on and off back to back, which one goes first alternating, so drift on the shared host hits both alike.
for l in json sse; do
  secs=3 run warmup "$work/$l.lua" "http://127.0.0.1:$OCT/v1/chat/completions" >/dev/null
  secs=3 run warmup "$work/$l-off.lua" "http://127.0.0.1:$OCT_OFF/v1/chat/completions" >/dev/null
done
for i in $(seq 1 "$stats_rounds"); do
  for kind in json sse; do
    if [ $((i % 2)) = 1 ]; then
      stats_run "on-$kind" "$work/$kind.lua" "$OCT" "$oct_pid"; stats_run "off-$kind" "$work/$kind-off.lua" "$OCT_OFF" "$off_pid"
    else
      stats_run "off-$kind" "$work/$kind-off.lua" "$OCT_OFF" "$off_pid"; stats_run "on-$kind" "$work/$kind.lua" "$OCT" "$oct_pid"
    fi
  done
done
kill -TERM "$oct_pid" "$off_pid"; wait "$oct_pid" "$off_pid" 2>/dev/null || true; oct_pid=""; off_pid=""

if [ "$only" = all ]; then
echo
echo "sequential overhead over direct (median of $rounds round medians x 25 requests): ${overhead} ms" \
  "(direct $(awk -v d="$d" 'BEGIN{printf "%.3f", d*1000}') ms, octopus $(awk -v o="$o" 'BEGIN{printf "%.3f", o*1000}') ms)"
echo "octopus RSS after the load runs: $((rss_kb / 1024)) MiB"
fi
col_median() { awk -v c="$2" '{print $c}' "$work/stats-$1" | median; }
echo
printf "stats and logs on vs off (%s rounds of %ss, on and off back to back; medians; on/off is the median of the rounds' ratios):\n" "$stats_rounds" "$secs"
printf "  %-12s %10s %10s %8s %15s %15s\n" "" "on req/s" "off req/s" "on/off" "on CPU us/req" "off CPU us/req"
for kind in json sse; do
  ratio=$(paste -d' ' "$work/stats-on-$kind" "$work/stats-off-$kind" | awk '{printf "%.4f\n", $1/$3}' | median | awk '{printf "%.3f", $1}')
  printf "  %-12s %10s %10s %8s %15s %15s\n" "$([ $kind = json ] && echo non-stream || echo stream)" "$(col_median "on-$kind" 1)" \
    "$(col_median "off-$kind" 1)" "$ratio" "$(col_median "on-$kind" 2)" "$(col_median "off-$kind" 2)"
  echo "    each round's on/off: $(paste -d' ' "$work/stats-on-$kind" "$work/stats-off-$kind" | awk '{printf "%s%.3f", (NR>1 ? " " : ""), $1/$3}')"
done
[ "$only" = stats ] && exit 0
nonstream_nginx=$(awk '/^nginx proxy, non-stream/ {print $(NF-3)}' "$results")
nonstream_oct=$(awk '/^octopus, non-stream / && !/OFF/ {print $(NF-3)}' "$results")
stream_nginx=$(awk '/^nginx proxy, stream/ {print $(NF-3)}' "$results")
stream_oct=$(awk '/^octopus, stream / && !/OFF/ {print $(NF-3)}' "$results")
echo "octopus / nginx requests/s: non-stream $(awk -v a="$nonstream_oct" -v b="$nonstream_nginx" 'BEGIN{printf "%.2f", a/b}')x," \
  "stream $(awk -v a="$stream_oct" -v b="$stream_nginx" 'BEGIN{printf "%.2f", a/b}')x"
nonstream_floor=$(awk '/^\.NET floor, non-stream/ {print $(NF-3)}' "$results")
stream_floor=$(awk '/^\.NET floor, stream/ {print $(NF-3)}' "$results")
echo ".NET floor / nginx requests/s: non-stream $(awk -v a="$nonstream_floor" -v b="$nonstream_nginx" 'BEGIN{printf "%.2f", a/b}')x," \
  "stream $(awk -v a="$stream_floor" -v b="$stream_nginx" 'BEGIN{printf "%.2f", a/b}')x;" \
  "octopus / .NET floor: non-stream $(awk -v a="$nonstream_oct" -v b="$nonstream_floor" 'BEGIN{printf "%.2f", a/b}')x," \
  "stream $(awk -v a="$stream_oct" -v b="$stream_floor" 'BEGIN{printf "%.2f", a/b}')x"
ratio_of() { # $1 = row label prefix, $2 = nginx req/s
  awk -v l="$1" -v b="$2" 'index($0, l) == 1 {printf "%.2f", $(NF-3) / b}' "$results"
}
echo ".NET socket floor / nginx requests/s: non-stream $(ratio_of ".NET socket floor, non-stream" "$nonstream_nginx")x," \
  "stream $(ratio_of ".NET socket floor, stream" "$stream_nginx")x;" \
  "Kestrel alone / nginx: non-stream $(ratio_of "Kestrel alone, non-stream" "$nonstream_nginx")x," \
  "stream $(ratio_of "Kestrel alone, stream" "$stream_nginx")x"
