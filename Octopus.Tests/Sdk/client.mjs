// Drives official SDK calls against Octopus and prints what the SDK parsed, as one JSON line.
// Usage: node client.mjs <scenario>   env: OCTOPUS_URL, OCTOPUS_KEY, OCTOPUS_MODEL (OCTOPUS_TOOL_RESULT for tool scenarios)
// Each scenario imports only its own SDK: loading all three costs more than most scenarios take.

const base = process.env.OCTOPUS_URL;
const apiKey = process.env.OCTOPUS_KEY;
const model = process.env.OCTOPUS_MODEL;
const scenario = process.argv[2];
const tools = process.env.OCTOPUS_TOOLS === '1';
const toolResult = process.env.OCTOPUS_TOOL_RESULT ?? 'Sunny, 22 C in Paris';

let OpenAI, Anthropic, GoogleGenAI;
const openai = () => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: base, apiKey, maxRetries: 0 });
const gemini = () => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: base } });

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const question = 'What is the weather in Paris?';

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const scenarios = {
  // The transparent proxy as an SDK base URL: OCTOPUS_MODEL names the group.
  async 'openai-proxy-embeddings'() {
    const client = new OpenAI({ baseURL: `${base}/proxy/${model}`, apiKey, maxRetries: 0 });
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
    return { embedding: r.data[0].embedding, model: r.model };
  },
  async 'openai-proxy-transcription'() {
    const { toFile } = await import('openai');
    const client = new OpenAI({ baseURL: `${base}/proxy/${model}`, apiKey, maxRetries: 0 });
    const bytes = Buffer.alloc(50_000, 7);
    const r = await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(bytes, 'speech.mp3', { type: 'audio/mpeg' }) });
    return { text: r.text };
  },
  async 'anthropic-proxy-models'() {
    const client = new Anthropic({ baseURL: `${base}/proxy/${model}`, apiKey, maxRetries: 0 });
    const page = await client.models.list();
    return { ids: page.data.map(m => m.id) };
  },
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

  // ---- Two-step tool conversations: the SDK parses the call, the result goes back the SDK's native way ----
  // Each runs streamed (`...-stream`, through the SDK's stream helpers) and not.
  'openai-chat-tools-stream': () => openaiChatTools(true),
  'openai-chat-tools': () => openaiChatTools(false),
  'openai-responses-tools-stream': () => openaiResponsesTools(true),
  'openai-responses-tools': () => openaiResponsesTools(false),
  'anthropic-tools-stream': () => anthropicTools(true),
  'anthropic-tools': () => anthropicTools(false),
  'gemini-tools-stream': () => geminiTools(true),
  'gemini-tools': () => geminiTools(false),

  // ---- Extended thinking: the thinking block (with its signature) goes back in the history ----
  'anthropic-thinking-stream': () => anthropicThinking(true),
  'anthropic-thinking': () => anthropicThinking(false),

  // ---- Reasoning and tools together (what coding agents do): reasoning must survive the tool loop ----
  async 'openai-chat-reasoning-tools-stream'() {
    const client = openai();
    const tools = [weatherTool];
    const messages = [{ role: 'user', content: question }];
    // reasoning_content is not in OpenAI's types: read it from the raw chunks, as DeepSeek users do.
    const ask = async () => {
      const s = client.chat.completions.stream({ model, messages, tools, reasoning_effort: 'low', stream_options: { include_usage: true } });
      const turn = { reasoning: '', text: '' };
      s.on('chunk', chunk => { turn.reasoning += chunk.choices[0]?.delta?.reasoning_content ?? ''; });
      s.on('content', delta => { turn.text += delta; });
      turn.completion = await s.finalChatCompletion();
      return turn;
    };
    const first = await ask();
    const msg = first.completion.choices[0].message;
    const call = msg.tool_calls?.[0];
    if (!call) throw new Error(`no tool call parsed: ${JSON.stringify(msg)}`);
    // DeepSeek's thinking mode wants the reasoning back beside the tool calls.
    messages.push({ ...msg, reasoning_content: first.reasoning });
    messages.push({ role: 'tool', tool_call_id: call.id, content: toolResult });
    const final = await ask();
    return {
      thinking: first.reasoning, signature: null, thinking2: final.reasoning,
      tool: { id: call.id, name: call.function.name, arguments: JSON.parse(call.function.arguments) }, tool_calls: msg.tool_calls.length,
      text: final.text, final_text: final.completion.choices[0].message.content,
    };
  },
  async 'openai-responses-reasoning-tools-stream'() {
    const client = openai();
    const tools = [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: weatherSchema, strict: false }];
    // Codex's way: stateless, reasoning summaries, encrypted reasoning carried in the input.
    const params = { model, tools, reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'], store: false };
    const input = [{ role: 'user', content: question }];
    const ask = async () => {
      const s = client.responses.stream({ ...params, input });
      const turn = { summary: '', text: '' };
      s.on('response.reasoning_summary_text.delta', ev => { turn.summary += ev.delta; });
      s.on('response.output_text.delta', ev => { turn.text += ev.delta; });
      turn.response = await s.finalResponse();
      return turn;
    };
    const first = await ask();
    const calls = first.response.output.filter(o => o.type === 'function_call');
    if (calls.length === 0) throw new Error(`no function_call parsed: ${JSON.stringify(first.response.output)}`);
    const reasoning = first.response.output.filter(o => o.type === 'reasoning');
    input.push(...first.response.output);
    input.push({ type: 'function_call_output', call_id: calls[0].call_id, output: toolResult });
    const final = await ask();
    return {
      thinking: first.summary, summary_items: reasoning.map(r => r.summary.map(x => x.text).join('')),
      signature: reasoning.map(r => r.encrypted_content ?? '').join('|'), thinking2: final.summary,
      tool: { id: calls[0].call_id, name: calls[0].name, arguments: JSON.parse(calls[0].arguments) }, tool_calls: calls.length,
      output_types1: first.response.output.map(o => o.type), text: final.text, final_text: final.response.output_text,
    };
  },
  async 'anthropic-thinking-tools-stream'() {
    const client = anthropic();
    const tools = [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherSchema }];
    const params = { model, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools };
    const messages = [{ role: 'user', content: question }];
    const ask = async () => {
      const s = client.messages.stream({ ...params, messages });
      const turn = { thinking: '', text: '' };
      s.on('thinking', delta => { turn.thinking += delta; });
      s.on('text', t => { turn.text += t; });
      turn.message = await s.finalMessage();
      return turn;
    };
    const first = await ask();
    const uses = first.message.content.filter(b => b.type === 'tool_use');
    if (uses.length === 0) throw new Error(`no tool_use parsed: ${JSON.stringify(first.message.content)}`);
    // Claude Code's way: the whole assistant turn (thinking blocks with signatures included) goes back.
    messages.push({ role: 'assistant', content: first.message.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: toolResult }] });
    const final = await ask();
    return {
      thinking: first.thinking, signature: first.message.content.filter(b => b.type === 'thinking').map(b => b.signature).join('|'),
      thinking2: final.thinking, block_types1: first.message.content.map(b => b.type),
      tool: { id: uses[0].id, name: uses[0].name, arguments: uses[0].input }, tool_calls: uses.length,
      text: final.text, final_text: final.message.content.filter(b => b.type === 'text').map(b => b.text).join(''),
    };
  },
  async 'gemini-thinking-tools-stream'() {
    const ai = gemini();
    const config = {
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: weatherSchema }] }],
    };
    const contents = [{ role: 'user', parts: [{ text: question }] }];
    const ask = async () => {
      const turn = { parts: [], calls: [] };
      for await (const chunk of await ai.models.generateContentStream({ model, contents, config })) {
        turn.parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
        turn.calls.push(...(chunk.functionCalls ?? []));
      }
      turn.thinking = turn.parts.filter(p => p.thought && p.text).map(p => p.text).join('');
      turn.text = turn.parts.filter(p => p.text && !p.thought).map(p => p.text).join('');
      return turn;
    };
    const first = await ask();
    if (first.calls.length === 0) throw new Error(`no functionCall parsed: ${JSON.stringify(first.parts)}`);
    const call = first.calls[0];
    contents.push({ role: 'model', parts: first.parts });
    contents.push({ role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: toolResult } } }] });
    const final = await ask();
    return {
      thinking: first.thinking, signature: first.parts.filter(p => p.thoughtSignature).map(p => p.thoughtSignature).join('|'),
      thinking2: final.thinking, tool: { id: call.id ?? null, name: call.name, arguments: call.args }, tool_calls: first.calls.length,
      text: final.text, final_text: final.text,
    };
  },

  // ---- count_tokens ----
  async 'anthropic-count-tokens'() {
    const r = await anthropic().messages.countTokens({
      model, system: 'You are terse.', messages: [{ role: 'user', content: question }],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherSchema }],
    });
    return { input_tokens: r.input_tokens };
  },

  // ---- A stream that fails after content: the SDK must surface the in-band error, after the text it got ----
  async 'openai-chat-stream-broken'() {
    let text = '';
    try {
      const stream = await openai().chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Say hello' }] });
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      return { text, error: null };
    } catch (e) {
      return { text, error: e.error?.message ?? e.message, name: e.constructor.name };
    }
  },
  async 'anthropic-messages-stream-broken'() {
    let text = '';
    try {
      const stream = anthropic().messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
      stream.on('text', t => { text += t; });
      await stream.finalMessage();
      return { text, error: null };
    } catch (e) {
      return { text, error: e.error?.error?.message ?? e.message, type: e.error?.error?.type ?? null, name: e.constructor.name };
    }
  },

  // The SDK asks for base64 vectors by default and decodes them to float arrays itself.
  async 'openai-embeddings'() {
    const r = await openai().embeddings.create({ model, input: ['hello', 'Octopus'] });
    return { model: r.model, vectors: r.data.map(d => Array.from(d.embedding)), indexes: r.data.map(d => d.index), usage: r.usage };
  },
  async 'openai-embeddings-float'() {
    const r = await openai().embeddings.create({ model, input: 'hello', encoding_format: 'float' });
    return { model: r.model, vectors: r.data.map(d => d.embedding), usage: r.usage };
  },
  async 'openai-embeddings-error'() {
    try {
      await openai().embeddings.create({ model, input: 'x' });
      return { error: null };
    } catch (e) {
      return { status: e.status, error: e.error?.message ?? e.message, type: e.error?.type ?? null };
    }
  },
  async 'openai-images'() {
    const r = await openai().images.generate({ model, prompt: 'An octopus routing requests', n: 2, size: '1024x1024' });
    return { count: r.data.length, b64: r.data.map(d => d.b64_json), usage: r.usage ?? null };
  },
  async 'gemini-embed'() {
    const r = await gemini().models.embedContent({ model, contents: ['hello', 'Octopus'] });
    return { vectors: r.embeddings.map(e => e.values) };
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

async function openaiChatTools(streamed) {
  const client = openai();
  const tools = [weatherTool];
  const messages = [{ role: 'user', content: question }];
  // The stream helper accumulates tool-call deltas by index and rejects inconsistent ones.
  const ask = async () => {
    if (!streamed) return { completion: await client.chat.completions.create({ model, messages, tools }), text: null };
    const s = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } });
    let text = '';
    s.on('content', delta => { text += delta; });
    return { completion: await s.finalChatCompletion(), text };
  };
  const { completion: first } = await ask();
  const msg = first.choices[0].message;
  const call = msg.tool_calls?.[0];
  if (!call) throw new Error(`no tool call parsed: ${JSON.stringify(msg)}`);
  // The assistant message goes back as the SDK parsed it (the documented pattern).
  messages.push(msg);
  messages.push({ role: 'tool', tool_call_id: call.id, content: toolResult });
  const { completion: final, text } = await ask();
  const finalText = final.choices[0].message.content;
  return {
    tool: { id: call.id, name: call.function.name, arguments: JSON.parse(call.function.arguments) },
    tool_calls: msg.tool_calls.length, finish1: first.choices[0].finish_reason,
    text: text ?? finalText, final_text: finalText, finish2: final.choices[0].finish_reason, usage: final.usage,
  };
}

async function openaiResponsesTools(streamed) {
  const client = openai();
  const tools = [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: weatherSchema, strict: false }];
  const input = [{ role: 'user', content: question }];
  const ask = async () => {
    if (!streamed) return { response: await client.responses.create({ model, input, tools }), text: null };
    const s = client.responses.stream({ model, input, tools });
    let text = '';
    s.on('response.output_text.delta', ev => { text += ev.delta; });
    return { response: await s.finalResponse(), text };
  };
  const { response: first } = await ask();
  const calls = first.output.filter(o => o.type === 'function_call');
  if (calls.length === 0) throw new Error(`no function_call parsed: ${JSON.stringify(first.output)}`);
  // Stateless use: the output items go back as input, followed by the call's output.
  input.push(...first.output);
  input.push({ type: 'function_call_output', call_id: calls[0].call_id, output: toolResult });
  const { response: final, text } = await ask();
  return {
    tool: { id: calls[0].call_id, name: calls[0].name, arguments: JSON.parse(calls[0].arguments) },
    tool_calls: calls.length, status1: first.status, output_types1: first.output.map(o => o.type),
    text: text ?? final.output_text, final_text: final.output_text, status2: final.status, usage: final.usage,
  };
}

async function anthropicTools(streamed) {
  const client = anthropic();
  const tools = [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherSchema }];
  const messages = [{ role: 'user', content: question }];
  // MessageStream parses input_json_delta fragments into the tool_use block's input object.
  const ask = async () => {
    if (!streamed) return { message: await client.messages.create({ model, max_tokens: 1024, messages, tools }), text: null };
    const s = client.messages.stream({ model, max_tokens: 1024, messages, tools });
    let text = '';
    s.on('text', t => { text += t; });
    return { message: await s.finalMessage(), text };
  };
  const { message: first } = await ask();
  const uses = first.content.filter(b => b.type === 'tool_use');
  if (uses.length === 0) throw new Error(`no tool_use parsed: ${JSON.stringify(first.content)}`);
  messages.push({ role: 'assistant', content: first.content });
  messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: toolResult }] });
  const { message: final, text } = await ask();
  const finalText = final.content.filter(b => b.type === 'text').map(b => b.text).join('');
  return {
    tool: { id: uses[0].id, name: uses[0].name, arguments: uses[0].input },
    tool_calls: uses.length, stop1: first.stop_reason, block_types1: first.content.map(b => b.type),
    text: text ?? finalText, final_text: finalText, stop2: final.stop_reason, usage: final.usage,
  };
}

async function geminiTools(streamed) {
  const ai = gemini();
  // OpenAPI-style schema, as Gemini's own docs write it.
  const config = { tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }] };
  const contents = [{ role: 'user', parts: [{ text: question }] }];
  // Parts, function calls, usage and finish reason of one model turn, streamed or not.
  const ask = async () => {
    const turn = { parts: [], calls: [], usage: null, finish: null };
    const take = r => {
      turn.parts.push(...(r.candidates?.[0]?.content?.parts ?? []));
      turn.calls.push(...(r.functionCalls ?? []));
      if (r.usageMetadata) turn.usage = r.usageMetadata;
      if (r.candidates?.[0]?.finishReason) turn.finish = r.candidates[0].finishReason;
    };
    if (streamed) for await (const chunk of await ai.models.generateContentStream({ model, contents, config })) take(chunk);
    else take(await ai.models.generateContent({ model, contents, config }));
    return turn;
  };
  const first = await ask();
  if (first.calls.length === 0) throw new Error(`no functionCall parsed: ${JSON.stringify(first.parts)}`);
  const call = first.calls[0];
  // The model turn goes back whole (thought signatures included), then the function's response.
  contents.push({ role: 'model', parts: first.parts });
  contents.push({ role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: toolResult } } }] });
  const final = await ask();
  const text = final.parts.filter(p => p.text && !p.thought).map(p => p.text).join('');
  return {
    tool: { id: call.id ?? null, name: call.name, arguments: call.args },
    tool_calls: first.calls.length, call_signed: first.parts.some(p => p.functionCall && p.thoughtSignature),
    text, final_text: text, finish2: final.finish, usage: final.usage,
  };
}

async function anthropicThinking(streamed) {
  const client = anthropic();
  const params = { model, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } };
  const messages = [{ role: 'user', content: 'How many r are in strawberry? Think first.' }];
  const turn = { thinking: '', signatures: 0, text: '' };
  const ask = async () => {
    if (!streamed) return client.messages.create({ ...params, messages });
    const s = client.messages.stream({ ...params, messages });
    s.on('thinking', delta => { turn.thinking += delta; });
    s.on('signature', () => { turn.signatures++; });
    s.on('text', t => { turn.text += t; });
    return s.finalMessage();
  };
  const m1 = await ask();
  const blocks = m1.content.filter(b => b.type === 'thinking');
  const streamedThinking = turn.thinking;
  const signatureEvents = turn.signatures;
  messages.push({ role: 'assistant', content: m1.content });
  messages.push({ role: 'user', content: 'Thanks. Say it once more.' });
  turn.text = '';
  const m2 = await ask();
  const finalText = m2.content.filter(b => b.type === 'text').map(b => b.text).join('');
  return {
    thinking: streamed ? streamedThinking : blocks.map(b => b.thinking).join(''),
    signature_events: streamed ? signatureEvents : blocks.filter(b => b.signature).length,
    thinking_blocks: blocks.map(b => ({ thinking: b.thinking, signature: b.signature })),
    block_types1: m1.content.map(b => b.type), text1: m1.content.filter(b => b.type === 'text').map(b => b.text).join(''),
    text: streamed ? turn.text : finalText, final_text: finalText, stop2: m2.stop_reason,
    block_types2: m2.content.map(b => b.type),
  };
}

const run = scenarios[scenario];
if (!run) { console.error(`unknown scenario ${scenario}`); process.exit(2); }
try {
  if (scenario.startsWith('openai')) ({ default: OpenAI } = await import('openai'));
  else if (scenario.startsWith('anthropic')) ({ default: Anthropic } = await import('@anthropic-ai/sdk'));
  else if (scenario.startsWith('gemini')) ({ GoogleGenAI } = await import('@google/genai'));
  console.log(JSON.stringify(await run()));
} catch (e) {
  console.error(`${scenario} failed: ${e.stack ?? e}`);
  process.exit(1);
}
