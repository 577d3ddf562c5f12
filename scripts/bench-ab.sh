#!/usr/bin/env bash
# A/B of Octopus builds or settings on one traffic shape (not part of CI). Starts nginx serving a canned upstream reply,
# one Octopus per variant (stats off, a one-member group on the upstream), warms each up, then drives them in turn with
# wrk (POST, 32 connections) for ROUNDS rounds, the order rotating each round, and prints each variant's median
# requests/s and CPU time per request (utime+stime from /proc). This is how the README's before/after figures for the
# stream paths were measured: the machine is shared, so compare variants within one run.
#
# Usage: scripts/bench-ab.sh KIND ROUNDS VARIANT...
#   VARIANT: "PATH_TO_OCTOPUS [NAME=VALUE ...]", e.g. "/tmp/octopus-old" "artifacts/publish-check/octopus OCTOPUS_X=1"
#   KIND (client <- upstream, streams of about 50 events as each provider sends them):
#     json                non-stream OpenAI Chat passthrough
#     openai              OpenAI Chat stream passthrough ("usage":null in every chunk, as OpenAI sends when asked)
#     gemini              Gemini stream passthrough (CRLF framing, usageMetadata in every chunk)
#     openai-anthropic    OpenAI Chat client on an Anthropic channel
#     anthropic-openai    Anthropic client on an OpenAI Chat channel
#     responses-openai    OpenAI Responses client on an OpenAI Chat channel
#     openai-gemini       OpenAI Chat client on a Gemini channel
#   env: BENCH_SECONDS (default 7), BENCH_STATS (false)
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,20p' "$0"; exit 2; }
kind=$1; rounds=$2; shift 2
secs="${BENCH_SECONDS:-7}"
UP=18821

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/bench-upstream.sh"
bench_deps

# client path, client body, key header, channel type, channel base path, upstream file
case "$kind" in
  json)              path=/v1/chat/completions; body='{"model":"bench","stream":false,"messages":[{"role":"user","content":"Say hello"}]}'; header=Authorization; type=openai; file=openai.json ;;
  openai)            path=/v1/chat/completions; body='{"model":"bench","stream":true,"messages":[{"role":"user","content":"Say hello"}]}'; header=Authorization; type=openai; file=openai.sse ;;
  gemini)            path='/v1beta/models/bench:streamGenerateContent?alt=sse'; body='{"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}'; header=x-goog-api-key; type=gemini; file=gemini.sse ;;
  openai-anthropic)  path=/v1/chat/completions; body='{"model":"bench","stream":true,"messages":[{"role":"user","content":"Say hello"}]}'; header=Authorization; type=anthropic; file=anthropic.sse ;;
  anthropic-openai)  path=/v1/messages; body='{"model":"bench","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"Say hello"}]}'; header=x-api-key; type=openai; file=openai.sse ;;
  responses-openai)  path=/v1/responses; body='{"model":"bench","stream":true,"input":"Say hello"}'; header=Authorization; type=openai; file=openai.sse ;;
  openai-gemini)     path=/v1/chat/completions; body='{"model":"bench","stream":true,"messages":[{"role":"user","content":"Say hello"}]}'; header=Authorization; type=gemini; file=gemini.sse ;;
  *) echo "unknown KIND $kind (see the usage: $0)" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/octopus-bench-ab.XXXXXX)
chmod 755 "$work" # nginx workers run as nobody and must read the canned replies
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -c "$work/nginx-upstream.conf" -p "$work" -s stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www"
bench_payloads "$work/www"

mime=text/event-stream; [ "$file" = openai.json ] && mime=application/json
bench_nginx "$work" upstream "  server {
    listen 127.0.0.1:$UP;
    root $work/www;
    location /up/ { default_type $mime; error_page 405 =200 /$file; return 405; }
    location = /$file { internal; default_type $mime; }
  }"

hz=$(getconf CLK_TCK)
n=0
for variant in "$@"; do
  read -r bin envs <<<"$variant"
  [ -x "$bin" ] || { echo "variant $n: $bin is not an executable" >&2; exit 2; }
  bin=$(realpath "$bin") # each instance starts in a directory of its own
  port=$((18830 + n)); dir="$work/oct-$n"; mkdir -p "$dir"
  # shellcheck disable=SC2086 # envs is a list of NAME=VALUE words
  (cd "$dir" && exec env OCTOPUS_SERVER_HOST=127.0.0.1 OCTOPUS_SERVER_PORT=$port OCTOPUS_LOG_LEVEL=warn \
    OCTOPUS_STATS_ENABLED="${BENCH_STATS:-false}" OCTOPUS_ADMIN_PASSWORD=bench-password-1 $envs "$bin" start >"$dir/octopus.log" 2>&1) &
  pids+=($!)
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "$base/readyz" >/dev/null || { echo "variant $n did not start:" >&2; cat "$dir/octopus.log" >&2; exit 1; }
  token=$(curl -sf -H 'Content-Type: application/json' -d '{"username":"admin","password":"bench-password-1"}' "$base/api/v1/auth/login" | jq -r .token)
  api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
  channel=$(api -d "{\"name\":\"up\",\"type\":\"$type\",\"base_urls\":[\"http://127.0.0.1:$UP/up/v1\"],\"keys\":[\"sk-bench\"],\"models\":[\"bench-model\"]}" "$base/api/v1/channels" | jq -r .id)
  api -d "{\"name\":\"bench\",\"mode\":\"failover\",\"members\":[{\"channel_id\":$channel,\"model\":\"bench-model\",\"priority\":0,\"weight\":1}]}" "$base/api/v1/groups" >/dev/null
  key=$(api -d '{"name":"bench"}' "$base/api/v1/api-keys" | jq -r .key)
  value="$key"; [ "$header" = Authorization ] && value="Bearer $key"
  cat > "$work/$n.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["$header"] = "$value"
wrk.headers["anthropic-version"] = "2023-06-01"
EOF
  echo "http://127.0.0.1:$port$path" > "$work/$n.url"
  n=$((n + 1))
done

run() { # $1 = variant, $2 = seconds; prints wrk's output, fails on non-2xx answers
  local out; out=$(wrk -t2 -c32 -d"$2s" --latency -s "$work/$1.lua" "$(cat "$work/$1.url")")
  if echo "$out" | grep -q "Non-2xx"; then { echo "variant $1: non-2xx answers:"; echo "$out"; cat "$work/oct-$1/octopus.log"; } >&2; exit 1; fi
  echo "$out"
}
for i in $(seq 0 $((n - 1))); do run "$i" 3 >/dev/null; done
for r in $(seq 1 "$rounds"); do
  for j in $(seq 0 $((n - 1))); do
    i=$(((j + r) % n))
    sleep 1
    before=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")
    out=$(run "$i" "$secs")
    after=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
    echo "$rps $(awk -v t=$((after - before)) -v hz="$hz" -v q="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / q}')" >> "$work/r-$i"
    echo "round $r, variant $i: $(tail -1 "$work/r-$i" | awk '{print $1 " req/s, " $2 " us CPU per request"}')"
  done
done
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "$kind, $rounds rounds of ${secs}s (wrk -c32), medians:"
i=0
for variant in "$@"; do
  printf "  %-60s %8s req/s %8s us CPU per request   (each round: %s)\n" "$variant" "$(awk '{print $1}' "$work/r-$i" | median)" \
    "$(awk '{print $2}' "$work/r-$i" | median)" "$(awk '{printf "%s%s", (NR>1 ? " " : ""), $2}' "$work/r-$i")"
  i=$((i + 1))
done
