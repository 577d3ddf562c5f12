// Drives one official SDK call against Octopus and prints what the SDK parsed, as one JSON line.
// Usage: node client.mjs <scenario>   env: OCTOPUS_URL, OCTOPUS_KEY, OCTOPUS_MODEL
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';

const base = process.env.OCTOPUS_URL;
const apiKey = process.env.OCTOPUS_KEY;
const model = process.env.OCTOPUS_MODEL;
const scenario = process.argv[2];
const tools = process.env.OCTOPUS_TOOLS === '1';

const openai = () => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: base, apiKey, maxRetries: 0 });
const gemini = () => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: base } });

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const scenarios = {
  async 'openai-chat'() {
    const r = await openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hello' }], ...(tools ? { tools: [weatherTool] } : {}) });
    return { text: r.choices[0].message.content, finish: r.choices[0].finish_reason, tool_calls: r.choices[0].message.tool_calls ?? [], usage: r.usage };
  },
  async 'openai-chat-stream'() {
    const stream = await openai().chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }], ...(tools ? { tools: [weatherTool] } : {}) });
    let text = ''; let finish = null; let usage = null; let chunks = 0; const toolArgs = {};
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta?.content) text += c.delta.content;
        for (const tc of c.delta?.tool_calls ?? []) {
          toolArgs[tc.index] ??= { name: '', arguments: '' };
          if (tc.function?.name) toolArgs[tc.index].name += tc.function.name;
          if (tc.function?.arguments) toolArgs[tc.index].arguments += tc.function.arguments;
        }
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { text, finish, usage, chunks, tool_calls: Object.values(toolArgs) };
  },
  async 'openai-responses'() {
    const r = await openai().responses.create({ model, input: 'Say hello' });
    return { text: r.output_text, status: r.status, usage: r.usage };
  },
  async 'openai-responses-stream'() {
    const stream = await openai().responses.create({ model, input: 'Say hello', stream: true });
    let text = ''; let status = null; let usage = null; const types = [];
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') { status = ev.response.status; usage = ev.response.usage; }
    }
    return { text, status, usage, first: types[0], last: types[types.length - 1] };
  },
  async 'anthropic-messages'() {
    const r = await anthropic().messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
    return { text: r.content.filter(b => b.type === 'text').map(b => b.text).join(''), stop: r.stop_reason, usage: r.usage };
  },
  async 'anthropic-messages-stream'() {
    const stream = anthropic().messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
    let text = '';
    stream.on('text', t => { text += t; });
    const final = await stream.finalMessage();
    return { text, stop: final.stop_reason, usage: final.usage };
  },
  async 'anthropic-models'() {
    const page = await anthropic().models.list();
    return { ids: page.data.map(m => m.id) };
  },
  async 'openai-models'() {
    const page = await openai().models.list();
    return { ids: page.data.map(m => m.id) };
  },
  async 'gemini-generate'() {
    const r = await gemini().models.generateContent({ model, contents: 'Say hello' });
    return { text: r.text, usage: r.usageMetadata };
  },
  async 'gemini-generate-stream'() {
    const stream = await gemini().models.generateContentStream({ model, contents: 'Say hello' });
    let text = ''; let usage = null;
    for await (const chunk of stream) { text += chunk.text ?? ''; if (chunk.usageMetadata) usage = chunk.usageMetadata; }
    return { text, usage };
  },
  async 'openai-chat-error'() {
    try {
      await openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });
      return { error: null };
    } catch (e) {
      return { status: e.status, error: e.error?.message ?? e.message };
    }
  },
  async 'anthropic-messages-error'() {
    try {
      await anthropic().messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      return { error: null };
    } catch (e) {
      return { status: e.status, type: e.error?.error?.type, error: e.error?.error?.message ?? e.message };
    }
  },
};

const run = scenarios[scenario];
if (!run) { console.error(`unknown scenario ${scenario}`); process.exit(2); }
try {
  console.log(JSON.stringify(await run()));
} catch (e) {
  console.error(`${scenario} failed: ${e.stack ?? e}`);
  process.exit(1);
}
