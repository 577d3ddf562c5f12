// A stand-in for the octopus binary, for working on the panel before (or without) the real Admin API:
// serves dist/ with the same SPA fallback and implements the Admin API plan in memory, plus a tiny relay for
// POST /v1/chat/completions that forwards to the channel's base URL (e.g. e2e/mock-upstream.mjs).
//
//   node e2e/mock-gateway.mjs [--port 8080] [--seed]     (--seed: demo channels, groups, keys and traffic)
//
// Not a test of the gateway: the real end-to-end run (e2e/e2e.mjs) drives the real binary.
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const port = Number(arg('--port', process.env.PORT ?? 8080));
const seed = args.includes('--seed');
const dist = join(import.meta.dirname, '..', 'dist');

const iso = (ms = Date.now()) => new Date(ms).toISOString();
const state = {
  admin: { username: 'admin', password: 'admin', mustChange: true, tokens: new Set() },
  channels: [],
  groups: [],
  keys: [],
  prices: [
    { model: 'gpt-4o-mini', input: 0.15, output: 0.6, cache_read: 0.075, cache_write: 0, source: 'synced', synced: null, updated_at: iso() },
    { model: 'gpt-4o', input: 2.5, output: 10, cache_read: 1.25, cache_write: 0, source: 'synced', synced: null, updated_at: iso() },
    { model: 'claude-sonnet-4-5', input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, source: 'synced', synced: null, updated_at: iso() },
  ],
  settings: {
    stats_save_interval: 5,
    log_retention_days: 30,
    body_capture: 'errors',
    body_sample_percent: 10,
    body_max_bytes: 65536,
    body_retention_days: 7,
    price_sync_interval_hours: 24,
    price_source_url: 'https://models.dev/api.json',
    model_sync_interval_hours: 12,
    cors_allow_origins: [],
    proxy: '',
  },
  logs: [],
  bodies: new Map(),
  ids: 1,
};
const nextId = () => state.ids++;

// ---------- helpers
function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(data);
}
const fail = (res, status, code, message) => send(res, status, { error: { code, message } });
async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}
const mask = (k) => (k.length > 8 ? k.slice(0, 5) + '…' + k.slice(-4) : '…');

function publicChannel(c) {
  return {
    ...c,
    keys: c.keys.map((k) => ({ ...k, key: mask(k.secret), secret: undefined })),
  };
}
function withChannelNames(g) {
  return { ...g, members: g.members.map((m) => ({ ...m, channel_name: state.channels.find((c) => c.id === m.channel_id)?.name ?? '?' })) };
}

function applyChannel(target, body, isNew) {
  for (const f of ['name', 'type', 'enabled', 'base_urls', 'models', 'auto_sync', 'model_filter', 'headers', 'proxy', 'param_override', 'probe_policy', 'add_cache_breakpoints'])
    if (body[f] !== undefined) target[f] = body[f];
  if (body.keys) {
    const old = isNew ? [] : target.keys;
    target.keys = body.keys.map((k) => {
      if (typeof k === 'string') return { id: nextId(), secret: k, enabled: true, status: 'active', status_reason: null, status_at: null, remark: null };
      const prev = old.find((o) => o.id === k.id);
      return { ...prev, ...(k.enabled !== undefined ? { enabled: k.enabled } : {}), ...(k.remark !== undefined ? { remark: k.remark } : {}) };
    }).filter((k) => k.secret);
  }
  target.updated_at = iso();
}

function newApiKey(body) {
  const secret = 'sk-oc-' + randomBytes(18).toString('base64url');
  const k = {
    id: nextId(),
    name: body.name,
    key_hint: secret.slice(0, 8) + '…' + secret.slice(-4),
    hash: createHash('sha256').update(secret).digest('hex'),
    enabled: body.enabled ?? true,
    expires_at: body.expires_at ?? null,
    allowed_groups: body.allowed_groups ?? [],
    budget: body.budget ?? null,
    budget_period: body.budget_period ?? 'total',
    rpm: body.rpm ?? null,
    tpm: body.tpm ?? null,
    max_concurrency: body.max_concurrency ?? null,
    group_limits: body.group_limits ?? {},
    created_at: iso(),
    updated_at: iso(),
  };
  state.keys.push(k);
  return { k, secret };
}
const publicKey = ({ hash, ...k }) => k;

function priceFor(model) {
  const p = state.prices.find((x) => x.model === model);
  return p ?? { input: 0, output: 0 };
}

function record(entry) {
  const log = {
    id: nextId(),
    time: iso(entry.timeMs ?? Date.now()),
    api_key_id: entry.key?.id ?? null,
    api_key_name: entry.key?.name ?? null,
    client_ip: '127.0.0.1',
    requested_model: entry.model,
    group_name: entry.group?.name ?? null,
    channel_id: entry.channel?.id ?? null,
    channel_name: entry.channel?.name ?? null,
    upstream_model: entry.upstreamModel ?? null,
    status: entry.status,
    error: entry.error ?? null,
    latency_ms: entry.latency ?? 0,
    ttft_ms: entry.ttft ?? null,
    input_tokens: entry.input ?? 0,
    output_tokens: entry.output ?? 0,
    cache_read_tokens: entry.cacheRead ?? 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost: ((entry.input ?? 0) * priceFor(entry.upstreamModel ?? entry.model).input + (entry.output ?? 0) * priceFor(entry.upstreamModel ?? entry.model).output) / 1e6,
    stream: !!entry.stream,
    protocol_in: 'openai_chat',
    protocol_out: 'openai_chat',
    attempts: entry.attempts ?? [],
  };
  state.logs.unshift(log);
  if (entry.body) state.bodies.set(log.id, entry.body);
  return log;
}

function inRange(log, url) {
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  const t = Date.parse(log.time);
  return (!from || t >= Date.parse(from)) && (!to || t <= Date.parse(to));
}

function summarize(logs) {
  const s = { requests: 0, succeeded: 0, failed: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost: 0 };
  for (const l of logs) {
    s.requests++;
    if (l.status >= 200 && l.status < 300) s.succeeded++;
    else s.failed++;
    s.input_tokens += l.input_tokens;
    s.output_tokens += l.output_tokens;
    s.cache_read_tokens += l.cache_read_tokens;
    s.cost += l.cost;
  }
  // Like the gateway: 0, not null, without traffic.
  return { ...s, success_rate: s.requests ? s.succeeded / s.requests : 0, cache_hit_rate: s.input_tokens ? s.cache_read_tokens / s.input_tokens : 0 };
}

// ---------- relay
async function relay(req, res) {
  const auth = req.headers.authorization ?? '';
  const secret = auth.replace(/^Bearer\s+/i, '');
  const key = state.keys.find((k) => k.hash === createHash('sha256').update(secret).digest('hex'));
  if (!key || !key.enabled) return send(res, 401, { error: { message: 'invalid api key', type: 'invalid_request_error', code: 'invalid_api_key' } });
  const body = await readBody(req);
  const group = state.groups.find((g) => g.name === body.model);
  if (!group || group.members.length === 0) {
    record({ key, model: body.model, status: 404, error: 'no such model' });
    return send(res, 404, { error: { message: `model ${body.model} not found`, type: 'invalid_request_error', code: 'model_not_found' } });
  }
  const attempts = [];
  const started = Date.now();
  for (const m of [...group.members].sort((a, b) => a.priority - b.priority)) {
    const channel = state.channels.find((c) => c.id === m.channel_id && c.enabled);
    const k = channel?.keys.find((x) => x.enabled);
    if (!channel || !k) continue;
    const base = channel.base_urls[0];
    const t0 = Date.now();
    try {
      const up = await fetch(base + '/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + k.secret },
        body: JSON.stringify({ ...body, model: m.model }),
      });
      const text = await up.text();
      attempts.push({ channel_id: channel.id, channel_name: channel.name, base_url: base, model: m.model, key_id: k.id, status: up.status, error: up.ok ? null : text.slice(0, 200), duration_ms: Date.now() - t0 });
      if (!up.ok) continue;
      // A stream is relayed whole (a stand-in needs no incremental relay); usage comes from its last data event.
      const usage = body.stream
        ? text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).usage).filter(Boolean).at(-1)
        : JSON.parse(text).usage;
      record({
        key, group, channel, model: body.model, upstreamModel: m.model, status: 200, latency: Date.now() - started, ttft: Date.now() - started,
        input: usage?.prompt_tokens ?? 0, output: usage?.completion_tokens ?? 0, cacheRead: usage?.prompt_tokens_details?.cached_tokens ?? 0, stream: !!body.stream, attempts,
        body: state.settings.body_capture === 'all' ? { request: JSON.stringify(body), response: text } : null,
      });
      if (body.stream) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        return res.end(text);
      }
      return send(res, 200, JSON.parse(text));
    } catch (e) {
      attempts.push({ channel_id: channel.id, channel_name: channel.name, base_url: base, model: m.model, key_id: k.id, status: 0, error: String(e), duration_ms: Date.now() - t0 });
    }
  }
  record({ key, group, model: body.model, status: 502, error: 'all members failed', latency: Date.now() - started, attempts, body: { request: JSON.stringify(body), response: null } });
  return send(res, 502, { error: { message: 'all upstreams failed', type: 'api_error', code: 'upstream_error' } });
}

/** GET {base}/models (OpenAI list shape) on a loopback upstream; other hosts get a canned list (no traffic leaves the machine). */
async function upstreamModels(base, key) {
  let host = '';
  try {
    host = new URL(base).hostname;
  } catch {
    return { error: 'base_url: must be an absolute http or https URL' };
  }
  if (host !== '127.0.0.1' && host !== 'localhost') return { models: ['gpt-4o-mini', 'gpt-4o', 'o3-mini', 'text-embedding-3-small'] };
  try {
    const r = await fetch(base.replace(/\/$/, '') + '/models', { headers: { Authorization: 'Bearer ' + key }, signal: AbortSignal.timeout(10000) });
    if (!r.ok) return { error: `upstream answered ${r.status}` };
    return { models: ((await r.json()).data ?? []).map((m) => m.id) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

// ---------- admin API
async function admin(req, res, url) {
  const path = url.pathname;
  const method = req.method;
  const seg = path.split('/').slice(3); // after /api/v1
  const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');

  if (method === 'POST' && path === '/api/v1/auth/login') {
    const b = await readBody(req);
    if (b.username !== state.admin.username || b.password !== state.admin.password) return fail(res, 401, 'invalid_credentials', 'wrong username or password');
    const t = randomBytes(16).toString('hex');
    state.admin.tokens.add(t);
    return send(res, 200, { token: t, expires_at: iso(Date.now() + 7 * 86400e3), must_change_password: state.admin.mustChange });
  }
  if (!state.admin.tokens.has(token)) return fail(res, 401, 'unauthorized', 'sign in first');
  if (method === 'GET' && path === '/api/v1/auth/me') return send(res, 200, { username: state.admin.username, must_change_password: state.admin.mustChange });
  if (method === 'POST' && path === '/api/v1/auth/password') {
    const b = await readBody(req);
    if (b.old_password !== state.admin.password) return fail(res, 400, 'wrong_password', 'the current password is wrong');
    if (!b.new_password || b.new_password.length < 8) return fail(res, 400, 'weak_password', 'at least 8 characters');
    state.admin.password = b.new_password;
    state.admin.mustChange = false;
    state.admin.tokens.clear();
    const t = randomBytes(16).toString('hex');
    state.admin.tokens.add(t);
    return send(res, 200, { token: t, expires_at: iso(Date.now() + 7 * 86400e3), must_change_password: false });
  }
  if (state.admin.mustChange) return fail(res, 403, 'password_change_required', 'change the default password first');

  const [resource, id, sub, subId, action] = seg;
  const num = Number(id);
  switch (resource) {
    case 'channels': {
      if (method === 'GET' && !id) return send(res, 200, state.channels.map(publicChannel));
      if (method === 'POST' && id === 'fetch-models') {
        const b = await readBody(req);
        const r = await upstreamModels(b.base_url, b.key);
        return r.error ? fail(res, 502, 'upstream_failed', r.error) : send(res, 200, { models: r.models });
      }
      if (method === 'POST' && !id) {
        const b = await readBody(req);
        if (state.channels.some((c) => c.name === b.name)) return fail(res, 409, 'duplicate_name', 'a channel with that name exists');
        const c = { id: nextId(), synced_models: [], created_at: iso(), keys: [] };
        applyChannel(c, b, true);
        state.channels.push(c);
        return send(res, 201, publicChannel(c));
      }
      const c = state.channels.find((x) => x.id === num);
      if (!c) return fail(res, 404, 'not_found', 'no such channel');
      if (method === 'GET' && !sub) return send(res, 200, publicChannel(c));
      if (method === 'PUT' && !sub) {
        applyChannel(c, await readBody(req), false);
        return send(res, 200, publicChannel(c));
      }
      if (method === 'DELETE' && !sub) {
        state.channels = state.channels.filter((x) => x !== c);
        for (const g of state.groups) g.members = g.members.filter((m) => m.channel_id !== c.id);
        return send(res, 204);
      }
      if (method === 'POST' && sub === 'test') {
        const t0 = Date.now();
        try {
          const r = await fetch(c.base_urls[0] + '/models', { headers: { Authorization: 'Bearer ' + (c.keys[0]?.secret ?? '') } });
          return send(res, 200, { ok: r.ok, status: r.status, latency_ms: Date.now() - t0, model: c.models[0] ?? '', error: r.ok ? null : `HTTP ${r.status}` });
        } catch (e) {
          return send(res, 200, { ok: false, status: 0, latency_ms: Date.now() - t0, model: c.models[0] ?? '', error: String(e.cause?.code ?? e) });
        }
      }
      if (method === 'POST' && sub === 'sync-models') {
        const r = await upstreamModels(c.base_urls[0], c.keys.find((k) => k.enabled)?.secret ?? '');
        if (r.error) return fail(res, 502, 'upstream_failed', r.error);
        const filter = c.model_filter ? new RegExp(c.model_filter) : null;
        const before = new Set(c.synced_models);
        c.synced_models = r.models.filter((m) => !filter || filter.test(m));
        const now = new Set(c.synced_models);
        return send(res, 200, { models: c.synced_models, added: c.synced_models.filter((m) => !before.has(m)), removed: [...before].filter((m) => !now.has(m)) });
      }
      if (sub === 'keys') {
        const k = c.keys.find((x) => x.id === Number(subId));
        if (!k) return fail(res, 404, 'not_found', 'no such key');
        if (method === 'GET' && action === 'reveal') return send(res, 200, { key: k.secret });
        if (method === 'POST' && action === 'reset') {
          k.status = 'active';
          k.status_reason = null;
          return send(res, 200, {});
        }
      }
      break;
    }
    case 'groups': {
      if (method === 'GET' && !id) return send(res, 200, state.groups.map(withChannelNames));
      if (method === 'POST' && id === 'from-channel') {
        const b = await readBody(req);
        const c = state.channels.find((x) => x.id === b.channel_id);
        const models = b.models ?? [...new Set([...(c?.models ?? []), ...(c?.synced_models ?? [])])];
        const created = [];
        const skipped = [];
        for (const m of models) {
          if (state.groups.some((g) => g.name === m)) {
            skipped.push(m);
            continue;
          }
          const g = { id: nextId(), name: m, mode: 'round_robin', members: [{ id: nextId(), channel_id: c.id, model: m, priority: 0, weight: 1, pinned: false }], settings: {}, aliases: [], visible: true, created_at: iso(), updated_at: iso() };
          state.groups.push(g);
          created.push(withChannelNames(g));
        }
        return send(res, 200, { created, skipped });
      }
      if (method === 'POST' && !id) {
        const b = await readBody(req);
        if (state.groups.some((g) => g.name === b.name)) return fail(res, 409, 'duplicate_name', 'a group with that name exists');
        const g = { id: nextId(), ...b, members: (b.members ?? []).map((m) => ({ ...m, id: nextId() })), created_at: iso(), updated_at: iso() };
        state.groups.push(g);
        return send(res, 201, withChannelNames(g));
      }
      const g = state.groups.find((x) => x.id === num);
      if (!g) return fail(res, 404, 'not_found', 'no such group');
      if (method === 'PUT') {
        const b = await readBody(req);
        Object.assign(g, b, { updated_at: iso() });
        if (b.members) g.members = b.members.map((m) => ({ ...m, id: m.id ?? nextId() }));
        return send(res, 200, withChannelNames(g));
      }
      if (method === 'DELETE') {
        state.groups = state.groups.filter((x) => x !== g);
        return send(res, 204);
      }
      break;
    }
    case 'api-keys': {
      if (method === 'GET' && !id) return send(res, 200, state.keys.map(publicKey));
      if (method === 'POST' && !id) {
        const b = await readBody(req);
        const { k, secret } = newApiKey(b);
        return send(res, 201, { ...publicKey(k), key: secret });
      }
      const k = state.keys.find((x) => x.id === num);
      if (!k) return fail(res, 404, 'not_found', 'no such key');
      if (method === 'PUT') {
        Object.assign(k, await readBody(req), { updated_at: iso() });
        return send(res, 200, publicKey(k));
      }
      if (method === 'DELETE') {
        state.keys = state.keys.filter((x) => x !== k);
        return send(res, 204);
      }
      break;
    }
    case 'prices': {
      if (method === 'GET' && !id) return send(res, 200, state.prices);
      if (method === 'GET' && id === 'missing') {
        const used = new Set(state.logs.map((l) => l.upstream_model).filter(Boolean));
        return send(res, 200, [...used].filter((m) => !state.prices.some((p) => p.model === m)));
      }
      if (method === 'POST' && id === 'sync') {
        // Like the gateway: read price_source_url (models.dev shape); on failure keep the stored prices.
        let doc;
        try {
          const r = await fetch(state.settings.price_source_url, { signal: AbortSignal.timeout(10000) });
          if (!r.ok) throw new Error(`price source answered ${r.status}`);
          doc = await r.json();
        } catch (e) {
          return send(res, 502, { updated: 0, error: { code: 'price_sync_failed', message: String(e.message ?? e) } });
        }
        let updated = 0;
        for (const provider of Object.values(doc ?? {})) {
          for (const [key, m] of Object.entries(provider?.models ?? {})) {
            if (!m?.cost) continue;
            const values = { input: m.cost.input ?? 0, output: m.cost.output ?? 0, cache_read: m.cost.cache_read ?? 0, cache_write: m.cost.cache_write ?? 0 };
            const model = m.id ?? key;
            const p = state.prices.find((x) => x.model === model);
            if (!p) state.prices.push({ model, ...values, source: 'synced', synced: null, updated_at: iso() });
            else if (p.source === 'user') p.synced = values;
            else Object.assign(p, values, { updated_at: iso() });
            updated++;
          }
        }
        return send(res, 200, { updated });
      }
      // Like the gateway's {**model} route: the rest of the path, "/" kept, an encoded %2F kept as it is.
      const model = seg.slice(1).join('/').split(/%2F/i).map(decodeURIComponent).join('%2F');
      if (method === 'PUT') {
        const b = await readBody(req);
        let p = state.prices.find((x) => x.model === model);
        if (!p) {
          p = { model, synced: null };
          state.prices.push(p);
        } else if (p.source === 'synced') p.synced = { input: p.input, output: p.output, cache_read: p.cache_read, cache_write: p.cache_write };
        Object.assign(p, b, { source: 'user', updated_at: iso() });
        return send(res, 200, p);
      }
      if (method === 'DELETE') {
        const p = state.prices.find((x) => x.model === model);
        if (p?.synced) Object.assign(p, p.synced, { source: 'synced', synced: null });
        else state.prices = state.prices.filter((x) => x !== p);
        return send(res, 204);
      }
      break;
    }
    case 'settings': {
      if (method === 'GET') return send(res, 200, state.settings);
      if (method === 'PUT') {
        Object.assign(state.settings, await readBody(req));
        return send(res, 200, state.settings);
      }
      break;
    }
    case 'logs': {
      if (method === 'GET' && !id) {
        const limit = Number(url.searchParams.get('limit') ?? 50);
        const q = url.searchParams;
        const status = q.get('status');
        if (status && !/^(ok|error|all|\d+)$/.test(status)) return fail(res, 400, 'validation_failed', 'status: must be ok, error or an HTTP status code');
        const all = state.logs.filter(
          (l) =>
            inRange(l, url) &&
            (!q.get('group') || l.group_name === q.get('group')) &&
            (!q.get('channel_id') || String(l.channel_id) === q.get('channel_id')) &&
            (!q.get('api_key_id') || String(l.api_key_id) === q.get('api_key_id')) &&
            (!status || status === 'all' || (status === 'ok' ? l.status < 400 : status === 'error' ? l.status >= 400 : l.status === Number(status))),
        );
        // Like the gateway: the cursor is the last item's id (a number), null on the last page.
        const cursor = q.get('cursor');
        const start = cursor ? all.findIndex((l) => l.id === Number(cursor)) + 1 : 0;
        const page = all.slice(start, start + limit);
        const items = page.map(({ attempts, ...l }) => l);
        return send(res, 200, { items, next_cursor: start + limit < all.length ? page.at(-1).id : null });
      }
      const l = state.logs.find((x) => x.id === num);
      if (!l) return fail(res, 404, 'not_found', 'no such log');
      return send(res, 200, { ...l, body: state.bodies.get(l.id) ?? null });
    }
    case 'stats': {
      // Like the gateway: stats count requests that reached a group (an unknown model is only a log line).
      const routed = state.logs.filter((l) => l.group_name);
      const logs = routed.filter((l) => inRange(l, url));
      if (id === 'total') {
        const s = summarize(routed);
        return send(res, 200, { requests: s.requests, succeeded: s.succeeded, failed: s.failed, input_tokens: s.input_tokens, output_tokens: s.output_tokens, cost: s.cost });
      }
      if (id === 'summary') return send(res, 200, summarize(logs));
      if (id === 'series') {
        const step = url.searchParams.get('interval') === 'day' ? 86400e3 : 3600e3;
        const buckets = new Map();
        for (const l of logs) {
          const t = Math.floor(Date.parse(l.time) / step) * step;
          const b = buckets.get(t) ?? { t: iso(t), requests: 0, failed: 0, input_tokens: 0, output_tokens: 0, cost: 0 };
          b.requests++;
          if (l.status >= 300) b.failed++;
          b.input_tokens += l.input_tokens;
          b.output_tokens += l.output_tokens;
          b.cost += l.cost;
          buckets.set(t, b);
        }
        return send(res, 200, { points: [...buckets.values()].sort((a, b) => a.t.localeCompare(b.t)) });
      }
      if (id === 'top') {
        const by = url.searchParams.get('by') || 'model';
        const limit = Number(url.searchParams.get('limit') ?? 10);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) return fail(res, 400, 'validation_failed', 'limit: must be an integer from 1 to 100');
        // Like the gateway: channel and key ids ("0" for none), the upstream model, the group name ("" for none).
        const field = { channel: ['channel_id', 'channel_name'], model: ['upstream_model', 'upstream_model'], api_key: ['api_key_id', 'api_key_name'], group: ['group_name', 'group_name'] }[by];
        if (!field) return fail(res, 400, 'validation_failed', 'by: must be channel, model, api_key or group');
        const rows = new Map();
        for (const l of logs) {
          const k = String(l[field[0]] ?? (by === 'channel' || by === 'api_key' ? '0' : ''));
          const r = rows.get(k) ?? { key: k, name: l[field[1]] ?? k, requests: 0, failed: 0, input_tokens: 0, output_tokens: 0, cost: 0, cache_hit_rate: 0 };
          r.requests++;
          if (l.status >= 300) r.failed++;
          r.input_tokens += l.input_tokens;
          r.output_tokens += l.output_tokens;
          r.cost += l.cost;
          rows.set(k, r);
        }
        return send(res, 200, [...rows.values()].sort((a, b) => b.requests - a.requests).slice(0, limit));
      }
      break;
    }
    case 'backup': {
      if (method === 'GET') {
        // The gateway's document: key secrets only with include_keys=true, API keys as hashes, price overrides only.
        const includeKeys = url.searchParams.get('include_keys') === 'true';
        const channels = state.channels.map((c) => ({ ...publicChannel(c), keys: c.keys.map(({ secret, ...k }) => ({ ...k, key: includeKeys ? secret : null })) }));
        const apiKeys = state.keys.map(({ hash, ...k }) => ({ ...k, key_hash: hash }));
        const prices = state.prices.filter((p) => p.source === 'user').map(({ model, input, output, cache_read, cache_write }) => ({ model, input, output, cache_read, cache_write }));
        const data = JSON.stringify({ version: 1, exported_at: iso(), includes_keys: includeKeys, channels, groups: state.groups.map(withChannelNames), api_keys: apiKeys, prices, settings: state.settings }, null, 2);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': `attachment; filename="octopus-backup-${iso().slice(0, 10)}.json"` });
        return res.end(data);
      }
      if (method === 'POST') {
        // Counts only: the stand-in keeps its state (the gateway replaces the configuration in one transaction).
        const b = await readBody(req);
        return send(res, 200, { channels: b.channels?.length ?? 0, groups: b.groups?.length ?? 0, api_keys: b.api_keys?.length ?? 0, prices: b.prices?.length ?? 0, settings: Object.keys(b.settings ?? {}).length });
      }
      break;
    }
  }
  return fail(res, 404, 'not_found', `No route for ${method} ${path}`);
}

// ---------- static bundle with the gateway's SPA rules
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json' };
function serveStatic(req, res, url) {
  let p = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
  if (p === '/') p = '/index.html';
  const file = join(dist, p);
  if (file.startsWith(dist) && existsSync(file) && statSync(file).isFile()) {
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache' });
    return res.end(readFileSync(file));
  }
  if ((req.headers.accept ?? '').includes('text/html')) {
    res.writeHead(200, { 'Content-Type': types['.html'], 'Cache-Control': 'no-cache' });
    return res.end(readFileSync(join(dist, 'index.html')));
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}

function seedDemo() {
  const mk = (name, type, base, models, extra = {}) => {
    const c = { id: nextId(), synced_models: [], created_at: iso(), keys: [] };
    applyChannel(c, { name, type, enabled: true, base_urls: [base], keys: ['sk-demo-' + randomBytes(8).toString('hex'), 'sk-demo-' + randomBytes(8).toString('hex')], models, auto_sync: false, model_filter: null, headers: {}, proxy: null, param_override: null, probe_policy: 'passive', add_cache_breakpoints: false, ...extra }, true);
    state.channels.push(c);
    return c;
  };
  const a = mk('openai-main', 'openai', 'https://api.openai.com/v1', ['gpt-4o', 'gpt-4o-mini']);
  const b = mk('anthropic', 'anthropic', 'https://api.anthropic.com/v1', ['claude-sonnet-4-5'], { add_cache_breakpoints: true });
  b.keys[1].status = 'set_aside';
  b.keys[1].status_reason = '401 invalid x-api-key';
  const c = mk('backup-relay', 'openai', 'https://relay.example.com/v1', ['gpt-4o-mini']);
  c.enabled = false;
  state.groups.push(
    { id: nextId(), name: 'gpt-4o-mini', mode: 'failover', members: [{ id: nextId(), channel_id: a.id, model: 'gpt-4o-mini', priority: 0, weight: 1, pinned: false }, { id: nextId(), channel_id: c.id, model: 'gpt-4o-mini', priority: 1, weight: 1, pinned: false }], settings: {}, aliases: ['gpt-4o-mini-*'], visible: true, created_at: iso(), updated_at: iso() },
    { id: nextId(), name: 'claude-sonnet-4-5', mode: 'round_robin', members: [{ id: nextId(), channel_id: b.id, model: 'claude-sonnet-4-5', priority: 0, weight: 1, pinned: false }], settings: {}, aliases: [], visible: true, created_at: iso(), updated_at: iso() },
    { id: nextId(), name: 'gpt-4o', mode: 'weighted', members: [{ id: nextId(), channel_id: a.id, model: 'gpt-4o', priority: 0, weight: 3, pinned: false }], settings: { cooldown_seconds: 60 }, aliases: [], visible: false, created_at: iso(), updated_at: iso() },
  );
  const k1 = newApiKey({ name: 'claude-code', budget: 50, budget_period: 'monthly' }).k;
  const k2 = newApiKey({ name: 'ci-bot', allowed_groups: ['gpt-4o-mini'], rpm: 60 }).k;
  newApiKey({ name: 'old-laptop', expires_at: iso(Date.now() - 86400e3) });
  // Thirty days of traffic, heavier in working hours; deterministic so screenshots are stable.
  let r = 42;
  const rand = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
  const now = Date.now();
  for (let h = 30 * 24; h >= 0; h--) {
    const t = now - h * 3600e3;
    const hour = new Date(t).getHours();
    const n = Math.floor((hour >= 9 && hour <= 19 ? 6 : 2) * rand());
    for (let i = 0; i < n; i++) {
      const useClaude = rand() < 0.45;
      const group = state.groups[useClaude ? 1 : 0];
      const channel = useClaude ? b : a;
      const failed = rand() < 0.03;
      record({
        timeMs: t + Math.floor(rand() * 3600e3) - 3600e3 / 2, key: useClaude ? k1 : k2, group, channel, model: group.name, upstreamModel: group.name,
        status: failed ? (rand() < 0.5 ? 429 : 502) : 200, error: failed ? 'upstream error' : null, latency: 300 + Math.floor(rand() * 4000), ttft: 150 + Math.floor(rand() * 900),
        input: failed ? 0 : 500 + Math.floor(rand() * 20000), output: failed ? 0 : 50 + Math.floor(rand() * 1500), cacheRead: useClaude ? Math.floor(rand() * 8000) : 0, stream: rand() < 0.7,
        attempts: [{ channel_id: channel.id, channel_name: channel.name, base_url: channel.base_urls[0], model: group.name, key_id: channel.keys[0].id, status: failed ? 502 : 200, error: failed ? 'bad gateway' : null, duration_ms: 400 }],
      });
    }
  }
  state.logs.sort((x, y) => y.time.localeCompare(x.time));
  state.admin.mustChange = false;
}

if (seed) seedDemo();

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname.startsWith('/api/')) return await admin(req, res, url);
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') return await relay(req, res);
    if (url.pathname.startsWith('/v1')) return send(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    return serveStatic(req, res, url);
  } catch (e) {
    return fail(res, 500, 'internal', String(e));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`mock gateway on http://127.0.0.1:${port}${seed ? ' (demo data; admin/admin)' : ''}`));
