// A mock OpenAI-compatible upstream for end-to-end runs: GET /v1/models and POST /v1/chat/completions
// (JSON or SSE, or a 500 for FAIL_PROMPT), answering in OpenAI's exact wire format, plus a models.dev-style price document at
// GET /models-dev.json (the gateway's price_source_url format). Listens on 127.0.0.1 only.
import { createServer } from 'node:http';

/** USD per million tokens, models.dev shape: {provider: {models: {id: {cost}}}}. */
export const PRICE_DOCUMENT = {
  openai: {
    id: 'openai',
    models: {
      'gpt-4o-mini': { id: 'gpt-4o-mini', cost: { input: 0.15, output: 0.6, cache_read: 0.075 } },
      'gpt-4o': { id: 'gpt-4o', cost: { input: 2.5, output: 10, cache_read: 1.25 } },
      'gpt-4.1': { id: 'gpt-4.1', cost: { input: 2, output: 8, cache_read: 0.5 } },
    },
  },
  anthropic: {
    id: 'anthropic',
    models: {
      'claude-sonnet-4-5': { id: 'claude-sonnet-4-5', cost: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 } },
      'claude-haiku-4-5': { id: 'claude-haiku-4-5', cost: { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 } },
    },
  },
};

export const UPSTREAM_MODELS = ['gpt-4o-mini', 'gpt-4o'];
/** A chat request whose last message is this gets OpenAI's 500 server_error. */
export const FAIL_PROMPT = 'please fail';

export function startMockUpstream(port = 0, { key = null } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } }));
    }
    requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.method === 'GET' && req.url === '/models-dev.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(PRICE_DOCUMENT));
    }
    if (key && req.headers.authorization !== `Bearer ${key}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
    }
    if (req.method === 'GET' && req.url.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: UPSTREAM_MODELS.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })) }));
    }
    if (req.method === 'POST' && req.url.endsWith('/chat/completions') && body?.messages?.at(-1)?.content === FAIL_PROMPT) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } }));
    }
    if (req.method === 'POST' && req.url.endsWith('/chat/completions')) {
      const model = body?.model ?? 'gpt-4o-mini';
      const created = Math.floor(Date.now() / 1000);
      const usage = { prompt_tokens: 1200, completion_tokens: 85, total_tokens: 1285, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } };
      if (body?.stream) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        const base = { id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_e2e' };
        const chunk = (delta, finish = null, extra = {}) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '', refusal: null }));
        res.write(chunk({ content: 'Hello from ' }));
        res.write(chunk({ content: 'the mock upstream.' }));
        res.write(chunk({}, 'stop'));
        if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
        return res.end('data: [DONE]\n\n');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({
        id: 'chatcmpl-e2e', object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the mock upstream.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage, service_tier: 'default', system_fingerprint: 'fp_e2e',
      }));
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Invalid URL (${req.method} ${req.url})`, type: 'invalid_request_error', param: null, code: null } }));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, port: server.address().port, requests })));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 9199);
  startMockUpstream(port).then(({ port }) => console.log(`mock upstream on http://127.0.0.1:${port}/v1`));
}
