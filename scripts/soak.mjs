// Soak helper for scripts/soak.sh (not part of CI). Two roles:
//   node soak.mjs mock <port>                      a fault-injecting OpenAI Chat + Anthropic upstream on 127.0.0.1
//   node soak.mjs load <base> <key> <seconds> <concurrency> <max> <pid>   mixed client traffic, then a JSON report
// Everything talks to loopback only and every loop is bounded in time and count.
import http from 'node:http';
import fs from 'node:fs';

const [, , role, ...args] = process.argv;

// ---------------------------------------------------------------- mock upstream
// Fault mix (per request, by dice): 3 % HTTP 500, 1 % no headers for 5 s (timeout), 0.5 % malformed body/event;
// streams also: 2 % cut mid-way, 1 % stall mid-way for 5 s (idle timeout).
const faults = { ok: 0, http500: 0, timeout: 0, malformed: 0, cut: 0, stall: 0 };

function openaiEvents(model) {
  const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const ev = [chunk({ role: 'assistant', content: '' }, null)];
  for (let i = 0; i < 10; i++) ev.push(chunk({ content: `tok${i} ` }, null));
  ev.push(chunk({}, 'stop'));
  ev.push(`data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1700000000, model, choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`);
  ev.push('data: [DONE]\n\n');
  return ev;
}

function anthropicEvents(model) {
  const e = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const ev = [e('message_start', { message: { id: 'msg_soak', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
    e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })];
  for (let i = 0; i < 10; i++) ev.push(e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `tok${i} ` } }));
  ev.push(e('content_block_stop', { index: 0 }));
  ev.push(e('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 10 } }));
  ev.push(e('message_stop', {}));
  return ev;
}

const openaiJson = model => JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion', created: 1700000000, model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the soak upstream.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } });
const anthropicJson = model => JSON.stringify({ id: 'msg_soak', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'Hello from the soak upstream.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 10 } });

function runMock(port) {
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', c => parts.push(c));
    req.on('end', () => {
      let body = {};
      try { body = JSON.parse(Buffer.concat(parts).toString('utf8')); } catch { /* answered below as 400 */ }
      const anthropic = req.url.endsWith('/messages');
      if (!req.url.endsWith('/chat/completions') && !anthropic) { res.writeHead(404); res.end(); return; }
      const model = body.model ?? 'soak-model';
      const stream = body.stream === true;
      const roll = Math.random() * 100;
      if (roll < 3) {
        faults.http500++;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(anthropic ? '{"type":"error","error":{"type":"api_error","message":"injected 500"}}' : '{"error":{"message":"injected 500","type":"server_error"}}');
        return;
      }
      if (roll < 4) {
        faults.timeout++;
        const t = setTimeout(() => { if (!res.destroyed) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(anthropic ? anthropicJson(model) : openaiJson(model)); } }, 5000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      if (roll < 4.5) {
        faults.malformed++;
        if (!stream) { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id":"broken","choices":[{"mess'); return; }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"id":"broken","choices":[{"delta":{"content":"tr\n\n');
        return;
      }
      if (!stream) {
        faults.ok++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(anthropic ? anthropicJson(model) : openaiJson(model));
        return;
      }
      const events = anthropic ? anthropicEvents(model) : openaiEvents(model);
      let cutAt = -1, stallAt = -1;
      if (roll < 6.5) { faults.cut++; cutAt = 5; } else if (roll < 7.5) { faults.stall++; stallAt = 5; } else faults.ok++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i === cutAt) { res.socket?.destroy(); return; }
        if (i === stallAt) { const t = setTimeout(() => res.socket?.destroy(), 5000); res.on('close', () => clearTimeout(t)); return; }
        if (i >= events.length) { res.end(); return; }
        res.write(events[i++]);
        setTimeout(next, 2);
      };
      next();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(Number(port), '127.0.0.1', () => console.log(`mock listening on ${port}`));
  process.on('SIGTERM', () => { fs.writeFileSync(`${process.env.SOAK_WORK}/mock-faults.json`, JSON.stringify(faults)); process.exit(0); });
}

// ---------------------------------------------------------------- load generator
const scenarios = [
  // [label, path, body(stream), headers(key), group]
  { name: 'openai->openai', path: '/v1/chat/completions', group: 'soak-openai', proto: 'openai' },
  { name: 'anthropic->anthropic', path: '/v1/messages', group: 'soak-anthropic', proto: 'anthropic' },
  { name: 'openai->anthropic', path: '/v1/chat/completions', group: 'soak-anthropic', proto: 'openai' },
  { name: 'anthropic->openai', path: '/v1/messages', group: 'soak-openai', proto: 'anthropic' },
  { name: 'gemini->openai', path: null, group: 'soak-openai', proto: 'gemini' },
  { name: 'responses->anthropic', path: '/v1/responses', group: 'soak-anthropic', proto: 'responses' },
];

function request(s, stream, i) {
  const text = `soak request ${i}: say hello`;
  switch (s.proto) {
    case 'anthropic': return { path: s.path, body: { model: s.group, max_tokens: 64, stream, messages: [{ role: 'user', content: text }] } };
    case 'gemini': return { path: `/v1beta/models/${s.group}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, body: { contents: [{ role: 'user', parts: [{ text }] }] } };
    case 'responses': return { path: s.path, body: { model: s.group, stream, input: text } };
    default: return { path: s.path, body: { model: s.group, stream, messages: [{ role: 'user', content: text }] } };
  }
}

/** What the client got: 'ok' or the cause of the failure, read from the protocol's error shape. */
function classify(status, proto, stream, text) {
  const cause = msg => /stalled/.test(msg) ? 'stream stalled (idle timeout)'
    : /cut|ended before completion|closed the connection/.test(msg) ? 'stream cut'
    : /malformed|not valid JSON|not a JSON object|could not be read|stream error before content/.test(msg) ? 'malformed upstream reply'
    : /no response within|no content within|timeout/.test(msg) ? 'upstream timeout'
    : /upstream 5\d\d|injected 500/.test(msg) ? 'upstream 500'
    : 'other: ' + msg.slice(0, 80);
  if (status !== 200) {
    let msg = '';
    try { const j = JSON.parse(text); msg = j.error?.message ?? ''; } catch { msg = text.slice(0, 80); }
    return `${status} ${cause(msg)}`;
  }
  if (!stream) {
    try { JSON.parse(text); return 'ok'; } catch { return '200 unparseable body'; }
  }
  // In-band error events of each protocol.
  const m = text.match(/"message":"([^"]*)"/g);
  const errored = proto === 'anthropic' ? /event: error\n/.test(text)
    : proto === 'responses' ? /event: response\.failed\n/.test(text)
    : /^data: \{"error":/m.test(text);
  if (errored) return `200+error event ${cause(m ? m[m.length - 1] : '')}`;
  const finished = proto === 'anthropic' ? text.includes('event: message_stop')
    : proto === 'responses' ? text.includes('response.completed')
    : proto === 'gemini' ? text.includes('"finishReason"')
    : text.includes('data: [DONE]');
  return finished ? 'ok' : '200 stream ended without its end marker';
}

function rssMiB(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'));
    return Math.round(Number(line.split(/\s+/)[1]) / 1024);
  } catch { return null; }
}

const pct = (sorted, p) => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function runLoad(base, key, seconds, concurrency, max, pid) {
  const deadline = Date.now() + seconds * 1000;
  let sent = 0, transportErrors = 0;
  const outcomes = {};
  const latencies = [], okLatencies = { stream: [], json: [] };
  const rss = [{ t: 0, mib: rssMiB(pid) }];
  const started = Date.now();
  const sampler = setInterval(() => rss.push({ t: Math.round((Date.now() - started) / 1000), mib: rssMiB(pid) }), 30_000);

  async function worker(w) {
    for (let i = w; Date.now() < deadline && sent < max; i += concurrency) {
      const s = scenarios[i % scenarios.length];
      const stream = Math.floor(i / scenarios.length) % 2 === 0;
      const { path, body } = request(s, stream, i);
      const headers = { 'content-type': 'application/json' };
      if (s.proto === 'anthropic') { headers['x-api-key'] = key; headers['anthropic-version'] = '2023-06-01'; }
      else if (s.proto === 'gemini') headers['x-goog-api-key'] = key;
      else headers.authorization = `Bearer ${key}`;
      sent++;
      const t0 = performance.now();
      try {
        const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
        const text = await res.text();
        const ms = performance.now() - t0;
        latencies.push(ms);
        const o = classify(res.status, s.proto, stream, text);
        outcomes[o] = (outcomes[o] ?? 0) + 1;
        if (o === 'ok') (stream ? okLatencies.stream : okLatencies.json).push(ms);
      } catch (e) {
        transportErrors++;
        const o = 'transport error: ' + (e.cause?.code ?? e.name);
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  clearInterval(sampler);
  rss.push({ t: Math.round((Date.now() - started) / 1000), mib: rssMiB(pid) });
  const sortNum = a => a.sort((x, y) => x - y);
  sortNum(latencies); sortNum(okLatencies.stream); sortNum(okLatencies.json);
  const answered = sent - transportErrors;
  const report = {
    seconds: Math.round((Date.now() - started) / 1000), concurrency, sent, answered, transportErrors,
    outcomes: Object.fromEntries(Object.entries(outcomes).sort((a, b) => b[1] - a[1])),
    errorRatePercent: Object.fromEntries(Object.entries(outcomes).filter(([k]) => k !== 'ok').map(([k, v]) => [k, +(100 * v / sent).toFixed(2)])),
    latencyMs: {
      all: { p50: +pct(latencies, 0.5).toFixed(1), p99: +pct(latencies, 0.99).toFixed(1) },
      okNonStream: { p50: +pct(okLatencies.json, 0.5).toFixed(1), p99: +pct(okLatencies.json, 0.99).toFixed(1) },
      okStream: { p50: +pct(okLatencies.stream, 0.5).toFixed(1), p99: +pct(okLatencies.stream, 0.99).toFixed(1) },
    },
    rssMiB: rss,
  };
  console.log(JSON.stringify(report));
}

if (role === 'mock') runMock(args[0]);
else if (role === 'load') await runLoad(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4]), Number(args[5]));
else { console.error('usage: soak.mjs mock <port> | load <base> <key> <seconds> <concurrency> <max> <pid>'); process.exit(2); }
