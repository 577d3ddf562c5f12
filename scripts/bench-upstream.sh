# Sourced by scripts/bench.sh and scripts/bench-ab.sh: the tools they need and the canned upstream replies nginx serves.

bench_deps() { # installs nginx, wrk, jq and curl when missing
  local need=()
  command -v nginx >/dev/null || need+=(nginx-light)
  command -v wrk >/dev/null || need+=(wrk)
  command -v jq >/dev/null || need+=(jq)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
  fi
}

bench_payloads() { # $1 = directory: openai.json, openai.sse, anthropic.sse and gemini.sse, each as its provider sends it
  local dir=$1 i
  echo '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}' > "$dir/openai.json"
  # What OpenAI sends when asked for usage, as the relay always asks: `"usage":null` in every chunk but the last.
  chunk() { printf 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":%s,"finish_reason":%s}],"usage":null}\n\n' "$1" "$2"; }
  {
    chunk '{"role":"assistant","content":""}' null
    for i in $(seq 1 49); do chunk "{\"content\":\"tok$i \"}" null; done
    chunk '{}' '"stop"'
    printf 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":49,"total_tokens":61}}\n\n'
    printf 'data: [DONE]\n\n'
  } > "$dir/openai.sse"
  {
    printf 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"bench-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}\n\n'
    printf 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    for i in $(seq 1 47); do printf 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok%s "}}\n\n' "$i"; done
    printf 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    printf 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":47}}\n\n'
    printf 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
  } > "$dir/anthropic.sse"
  # Gemini: CRLF framing and its cumulative usageMetadata in every chunk.
  {
    for i in $(seq 1 49); do
      printf 'data: {"candidates": [{"content": {"parts": [{"text": "tok%s "}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": %s,"totalTokenCount": %s},"modelVersion": "gemini-2.5-flash","responseId": "bench-response-id"}\r\n\r\n' "$i" "$i" $((12 + i))
    done
    printf 'data: {"candidates": [{"content": {"parts": [{"text": "end"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 50,"totalTokenCount": 62},"modelVersion": "gemini-2.5-flash","responseId": "bench-response-id"}\r\n\r\n'
  } > "$dir/gemini.sse"
}

bench_nginx() { # $1 = work directory, $2 = name, $3 = the http block's servers; writes $1/nginx-$2.conf and starts it
  # (pid in $1/$2.pid). Upstreams answer POST from files: a static location refuses POST with 405, which error_page
  # turns into the file.
  cat > "$1/nginx-$2.conf" <<EOF
worker_processes 1;
pid $1/$2.pid;
error_log $1/$2-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
$3
}
EOF
  nginx -c "$1/nginx-$2.conf" -p "$1"
}
