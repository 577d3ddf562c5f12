import { describe, expect, it } from 'vitest';
import type { Channel } from './api/types';
import { allModels, channelState, channelToForm, formToInput, healthTone, keySummary } from './channelForm';

const channel: Channel = {
  id: 4,
  name: 'openai-main',
  type: 'openai',
  enabled: true,
  base_urls: ['https://api.openai.com/v1', 'https://backup.example.com/v1'],
  keys: [
    { id: 1, key: 'sk-ab…yz', enabled: true, status: 'active', status_reason: null, status_at: null, remark: 'main' },
    { id: 2, key: 'sk-cd…wx', enabled: true, status: 'set_aside', status_reason: '401', status_at: null, remark: null },
  ],
  models: ['gpt-4o'],
  synced_models: ['gpt-4o', 'gpt-4o-mini'],
  auto_sync: true,
  model_filter: '^gpt',
  headers: { 'X-Org': 'acme' },
  proxy: null,
  param_override: { temperature: 0.5 },
  probe_policy: 'passive',
  add_cache_breakpoints: false,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

describe('channel form', () => {
  it('round-trips an existing channel into the same PUT body, keeping keys by id', () => {
    const form = channelToForm(channel);
    const { input, errors } = formToInput(form);
    expect(errors).toEqual({});
    expect(input).toEqual({
      name: 'openai-main',
      type: 'openai',
      enabled: true,
      base_urls: ['https://api.openai.com/v1', 'https://backup.example.com/v1'],
      endpoints: [],
      keys: [
        { id: 1, enabled: true, remark: 'main' },
        { id: 2, enabled: true, remark: null },
      ],
      models: ['gpt-4o'],
      auto_sync: true,
      model_filter: '^gpt',
      headers: { 'X-Org': 'acme' },
      proxy: null,
      param_override: { temperature: 0.5 },
      probe_policy: 'passive',
      add_cache_breakpoints: false,
    });
  });

  it('sends new secrets as strings after the kept keys and drops removed keys', () => {
    const form = channelToForm(channel);
    form.existingKeys.splice(0, 1);
    form.newKeys = 'sk-new-1\n\nsk-new-2\n';
    expect(formToInput(form).input.keys).toEqual([{ id: 2, enabled: true, remark: null }, 'sk-new-1', 'sk-new-2']);
  });

  it('edits extra protocol endpoints as "type url" lines, grouping URLs of one type', () => {
    const form = channelToForm({
      ...channel,
      endpoints: [{ type: 'anthropic', base_urls: ['https://x.example/anthropic/v1', 'https://y.example/anthropic/v1'] }],
    });
    expect(form.endpoints).toBe('anthropic https://x.example/anthropic/v1\nanthropic https://y.example/anthropic/v1');
    form.endpoints += '\ngemini https://x.example/gemini/v1beta/';
    const { input, errors } = formToInput(form);
    expect(errors).toEqual({});
    expect(input.endpoints).toEqual([
      { type: 'anthropic', base_urls: ['https://x.example/anthropic/v1', 'https://y.example/anthropic/v1'] },
      { type: 'gemini', base_urls: ['https://x.example/gemini/v1beta'] },
    ]);
  });

  it('refuses endpoint lines that are not a type and a URL, or repeat a protocol', () => {
    const form = channelToForm(channel);
    form.endpoints = 'anthropc https://x.example/v1';
    expect(formToInput(form).errors.endpoints).toBe('channels.err.endpoints');
    form.endpoints = 'anthropic ftp://x';
    expect(formToInput(form).errors.endpoints).toBe('channels.err.endpoints');
    form.endpoints = 'volcengine https://v.example/v1'; // the channel is openai: same protocol
    expect(formToInput(form).errors.endpoints).toBe('channels.err.endpointTwice');
  });

  it('trims trailing slashes from base URLs', () => {
    const form = channelToForm(null);
    form.name = 'x';
    form.baseUrls = 'https://api.example.com/v1/\n';
    form.newKeys = 'k';
    expect(formToInput(form).input.base_urls).toEqual(['https://api.example.com/v1']);
  });

  it('reports each invalid field', () => {
    const form = channelToForm(null);
    form.baseUrls = 'ftp://nope';
    form.modelFilter = '(';
    form.headers = 'broken';
    form.proxy = 'nope:1080';
    form.paramOverride = '[1,2]';
    const { errors } = formToInput(form);
    expect(errors).toEqual({
      name: 'channels.err.name',
      baseUrls: 'channels.err.baseUrlInvalid',
      keys: 'channels.err.keys',
      modelFilter: 'channels.err.regex',
      headers: 'channels.err.headers',
      proxy: 'channels.err.proxy',
      paramOverride: 'channels.err.json',
    });
  });

  it('accepts socks5 proxies', () => {
    const form = channelToForm(channel);
    form.proxy = 'socks5://127.0.0.1:1080';
    expect(formToInput(form).errors.proxy).toBeUndefined();
  });
});

describe('channel state', () => {
  it('counts keys by state', () => {
    expect(keySummary(channel.keys)).toEqual({ total: 2, active: 1, setAside: 1, disabled: 0 });
  });

  it('is degraded with a set-aside key, down with none usable, off when disabled', () => {
    expect(channelState(channel)).toBe('degraded');
    expect(channelState({ ...channel, keys: [channel.keys[1]] })).toBe('down');
    expect(channelState({ ...channel, enabled: false })).toBe('off');
    expect(channelState({ ...channel, keys: [channel.keys[0]] })).toBe('ok');
  });

  it('lists manual models first, then synced ones without duplicates', () => {
    expect(allModels(channel)).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});

describe('health tone', () => {
  it('is ok from 95 %, warn from 70 %, err below, and blank without attempts', () => {
    expect(healthTone({ attempts: 20, success_rate: 0.95 })).toBe('ok');
    expect(healthTone({ attempts: 20, success_rate: 0.7 })).toBe('warn');
    expect(healthTone({ attempts: 20, success_rate: 0.5 })).toBe('err');
    expect(healthTone({ attempts: 0, success_rate: null })).toBe('');
    expect(healthTone(undefined)).toBe('');
  });
});
