import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Logs from './Logs.svelte';
import { session } from '../lib/session.svelte';
import { router } from '../lib/router.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';

const entry = {
  id: 42,
  time: new Date().toISOString(),
  api_key_id: 1,
  api_key_name: 'ci',
  client_ip: '127.0.0.1',
  requested_model: 'gpt-4o',
  group_name: 'gpt-4o',
  channel_id: 2,
  channel_name: 'backup',
  upstream_model: 'gpt-4o-2024-08-06',
  status: 200,
  error: null,
  latency_ms: 900,
  ttft_ms: 300,
  input_tokens: 100,
  output_tokens: 20,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  cost: 0.001,
  stream: true,
  protocol_in: 'openai_chat',
  protocol_out: 'anthropic',
};

describe('logs page', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    router.navigate('/logs', true);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('filters by group through the API and the URL', async () => {
    const { calls } = mockApi({
      'GET /api/v1/logs': () => ({ items: [entry], next_cursor: null }),
      'GET /api/v1/groups': () => [{ id: 1, name: 'gpt-4o', mode: 'failover', members: [], settings: {}, aliases: [], visible: true, created_at: '', updated_at: '' }],
      'GET /api/v1/channels': () => [],
      'GET /api/v1/api-keys': () => [],
    });
    render(Logs);
    await screen.findByTestId('log-row');
    await waitFor(() => expect(screen.getByTestId('log-filter-group').textContent).toContain('gpt-4o'));

    await fireEvent.change(screen.getByTestId('log-filter-group'), { target: { value: 'gpt-4o' } });

    await waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/logs').length).toBe(2));
    expect(window.location.search).toContain('group=gpt-4o');
    // The mock records the query-less path; check the filter reached the API through the fetch URL.
    const lastUrl = String((globalThis.fetch as unknown as { mock: { calls: unknown[][] } }).mock.calls.filter((c) => String(c[0]).startsWith('/api/v1/logs')).at(-1)![0]);
    expect(lastUrl).toContain('group=gpt-4o');
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => c.path === '/api/v1/logs').length).toBe(2);
  });

  it('pages with the numeric cursor and filters status with ok', async () => {
    const older = { ...entry, id: 41, requested_model: 'gpt-4o-mini' };
    const urls: string[] = [];
    mockApi({
      'GET /api/v1/logs': (_b, url) => {
        urls.push(url.search);
        if (url.searchParams.get('cursor') === '42') return { items: [older], next_cursor: null };
        return { items: [entry], next_cursor: 42 };
      },
      'GET /api/v1/groups': () => [],
      'GET /api/v1/channels': () => [],
      'GET /api/v1/api-keys': () => [],
    });
    render(Logs);
    await fireEvent.click(await screen.findByTestId('logs-more'));
    await waitFor(() => expect(screen.getAllByTestId('log-row').length).toBe(2));
    expect(screen.queryByTestId('logs-more')).toBeNull();

    await fireEvent.change(screen.getByTestId('log-filter-status'), { target: { value: 'ok' } });
    await waitFor(() => expect(urls.at(-1)).toContain('status=ok'));
  });

  it('opens a request with each attempt and its captured bodies', async () => {
    mockApi({
      'GET /api/v1/logs': () => ({ items: [entry], next_cursor: null }),
      'GET /api/v1/logs/42': () => ({
        ...entry,
        attempts: [
          { channel_id: 1, channel_name: 'primary', base_url: 'https://a.example/v1', model: 'gpt-4o', key_id: 7, status: 429, error: 'rate limited', duration_ms: 120 },
          { channel_id: 2, channel_name: 'backup', base_url: 'https://b.example/v1', model: 'gpt-4o-2024-08-06', key_id: 9, status: 200, error: null, duration_ms: 780 },
        ],
        body: { request: '{"model":"gpt-4o"}', response: 'data: {"x":1}\n\n' },
      }),
      'GET /api/v1/groups': () => [],
      'GET /api/v1/channels': () => [],
      'GET /api/v1/api-keys': () => [],
    });
    render(Logs);

    await fireEvent.click(await screen.findByTestId('log-row'));

    const attempts = await screen.findByTestId('log-attempts');
    expect(attempts.textContent).toContain('primary');
    expect(attempts.textContent).toContain('rate limited');
    expect(attempts.textContent).toContain('backup');
    expect(screen.getByTestId('log-body').textContent).toBe('{\n  "model": "gpt-4o"\n}');
    await fireEvent.click(screen.getByText('Response'));
    expect(screen.getByTestId('log-body').textContent).toBe('data: {"x":1}\n\n');
  });
});
