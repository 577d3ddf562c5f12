#!/usr/bin/env bash
# Soak run (not part of CI): the AOT-published Octopus on SQLite in front of a fault-injecting mock upstream
# (scripts/soak.mjs: 3 % HTTP 500, 1 % no answer for 5 s, 0.5 % malformed replies; streams also 2 % cut and 1 % stalled
# mid-way), driven with mixed traffic — OpenAI Chat, Anthropic, Gemini and Responses clients, streamed and not,
# same-protocol and converted — for SOAK_SECONDS. Then it reports requests sent vs counted in stats (live, and again
# after SIGTERM and a restart: both must equal), the client-side error rate by cause, Octopus's RSS every 30 s, and
# p50/p99 latency. Exits non-zero if a count differs or a request got no HTTP answer.
# Usage: scripts/soak.sh     env: SOAK_SECONDS (600), SOAK_CONCURRENCY (16), SOAK_MAX_REQUESTS (3000000), SOAK_BIN
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${SOAK_SECONDS:-600}"
conc="${SOAK_CONCURRENCY:-16}"
max="${SOAK_MAX_REQUESTS:-3000000}"
UP=18811; OCT=18813

command -v jq >/dev/null && command -v curl >/dev/null && command -v node >/dev/null || {
  echo "soak.sh needs jq, curl and node" >&2; exit 1; }

bin="${SOAK_BIN:-$root/artifacts/publish-check/octopus}"
if [ -z "${SOAK_BIN:-}" ] && { [ ! -x "$bin" ] || [ -n "$(find "$root/Octopus" -name '*.cs' -newer "$bin" -print -quit)" ]; }; then
  [ -f "$root/Octopus.Admin.Ui/dist/index.html" ] || "$root/scripts/build-ui.sh" >/dev/null
  "$root/scripts/publish-check.sh" >/dev/null
fi

work=$(mktemp -d /tmp/octopus-soak.XXXXXX)
export SOAK_WORK="$work"
oct_pid=""; mock_pid=""
cleanup() {
  [ -n "$oct_pid" ] && kill "$oct_pid" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

node "$root/scripts/soak.mjs" mock "$UP" >"$work/mock.log" 2>&1 &
mock_pid=$!

start_octopus() {
  mkdir -p "$work/oct"
  (cd "$work/oct" && OCTOPUS_SERVER_HOST=127.0.0.1 OCTOPUS_SERVER_PORT=$OCT OCTOPUS_LOG_LEVEL=warn \
    OCTOPUS_ADMIN_PASSWORD=soak-password-1 exec "$bin" start >>"$work/octopus.log" 2>&1) &
  oct_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$OCT/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "octopus did not start:"; cat "$work/octopus.log"; exit 1
}
stop_octopus() { kill -TERM "$oct_pid"; wait "$oct_pid" 2>/dev/null || true; oct_pid=""; }
login() { token=$(curl -sf -H 'Content-Type: application/json' -d '{"username":"admin","password":"soak-password-1"}' "http://127.0.0.1:$OCT/api/v1/auth/login" | jq -r .token); }
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

start_octopus
login
channel() { api -d "{\"name\":\"$1\",\"type\":\"$2\",\"base_urls\":[\"$3\"],\"keys\":[\"sk-soak-1\",\"sk-soak-2\"],\"models\":[\"soak-model\"]}" "http://127.0.0.1:$OCT/api/v1/channels" | jq -r .id; }
# Short timeouts so injected hangs and stalls end in seconds; one attempt per member so faults stay visible.
settings='{"attempts_per_member":1,"first_event_timeout_seconds":2,"response_timeout_seconds":2,"stream_idle_timeout_seconds":2,"cooldown_seconds":0,"affinity_seconds":0}'
group() { api -d "{\"name\":\"$1\",\"mode\":\"round_robin\",\"members\":[{\"channel_id\":$2,\"model\":\"soak-model\"}],\"settings\":$settings}" "http://127.0.0.1:$OCT/api/v1/groups" >/dev/null; }
group soak-openai "$(channel openai openai "http://127.0.0.1:$UP/openai/v1")"
group soak-anthropic "$(channel anthropic anthropic "http://127.0.0.1:$UP/anthropic/v1")"
key=$(api -d '{"name":"soak"}' "http://127.0.0.1:$OCT/api/v1/api-keys" | jq -r .key)

echo "soak: ${secs}s, ${conc} clients, binary $bin"
node "$root/scripts/soak.mjs" load "http://127.0.0.1:$OCT" "$key" "$secs" "$conc" "$max" "$oct_pid" > "$work/report.json"
sleep 1 # the last requests' records
live=$(api "http://127.0.0.1:$OCT/api/v1/stats/total" | jq .requests)
stop_octopus
start_octopus
login
persisted=$(api "http://127.0.0.1:$OCT/api/v1/stats/total" | jq .requests)
stop_octopus
kill -TERM "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=""

r="$work/report.json"
sent=$(jq .sent "$r"); answered=$(jq .answered "$r")
echo
echo "requests sent            $sent  ($(jq .seconds "$r") s, $(jq .concurrency "$r") clients, $(jq -r '(.sent / .seconds | floor)' "$r") req/s)"
echo "answered (HTTP reply)    $answered"
echo "counted in stats, live   $live"
echo "counted after restart    $persisted"
echo "client outcomes:"
jq -r '.outcomes | to_entries[] | "  \(.key): \(.value)"' "$r"
echo "error rate by cause (% of sent):"
jq -r '.errorRatePercent | to_entries[] | "  \(.key): \(.value) %"' "$r"
echo "faults the mock injected: $(cat "$work/mock-faults.json" 2>/dev/null || echo '?')"
echo "latency ms  all p50 $(jq .latencyMs.all.p50 "$r") p99 $(jq .latencyMs.all.p99 "$r") | ok non-stream p50 $(jq .latencyMs.okNonStream.p50 "$r") p99 $(jq .latencyMs.okNonStream.p99 "$r") | ok stream p50 $(jq .latencyMs.okStream.p50 "$r") p99 $(jq .latencyMs.okStream.p99 "$r")"
echo "octopus RSS MiB (every 30 s): $(jq -r '[.rssMiB[] | "\(.t)s:\(.mib)"] | join(" ")' "$r")"
echo "octopus RSS start $(jq '.rssMiB[0].mib' "$r") MiB, end $(jq '.rssMiB[-1].mib' "$r") MiB"

status=0
[ "$answered" = "$sent" ] || { echo "FAIL: $((sent - answered)) requests got no HTTP answer"; status=1; }
[ "$live" = "$answered" ] || { echo "FAIL: stats count $live, clients got $answered answers"; status=1; }
[ "$persisted" = "$answered" ] || { echo "FAIL: after restart stats count $persisted, clients got $answered answers"; status=1; }
[ $status = 0 ] && echo "PASS: every answered request is counted, live and after a restart"
exit $status
