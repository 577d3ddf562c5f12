import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';

// uPlot draws on a canvas, which happy-dom does not have; the chart's data path is tested in format.test.ts.
vi.mock('uplot', () => ({
  default: class {
    static paths = {};
    setSize() {}
    destroy() {}
  },
}));

import App from './App.svelte';
import { session } from './lib/session.svelte';
import { router } from './lib/router.svelte';
import { i18n } from './lib/i18n/index.svelte';
import { mockApi } from './test/mockApi';

const now = new Date().toISOString();
const channel = {
  id: 1,
  name: 'mock-openai',
  type: 'openai',
  enabled: true,
  base_urls: ['http://127.0.0.1:9999/v1'],
  keys: [{ id: 1, key: 'sk-…1234', enabled: true, status: 'active', status_reason: null, status_at: null, remark: null }],
  models: ['gpt-4o-mini'],
  synced_models: [],
  auto_sync: false,
  model_filter: null,
  headers: {},
  proxy: '',
  param_override: null,
  probe_policy: 'passive',
  add_cache_breakpoints: false,
  created_at: now,
  updated_at: now,
};

function gateway() {
  return mockApi({
    'GET /api/v1/auth/me': () => ({ username: 'admin', must_change_password: false }),
    'GET /api/v1/stats/summary': () => ({
      requests: 1234,
      succeeded: 1200,
      failed: 34,
      success_rate: 1200 / 1234,
      input_tokens: 5_600_000,
      output_tokens: 120_000,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost: 12.5,
      cache_hit_rate: null,
    }),
    'GET /api/v1/stats/total': () => ({ requests: 5000, succeeded: 4900, failed: 100, input_tokens: 1, output_tokens: 1, cost: 40 }),
    'GET /api/v1/stats/series': () => ({ points: [{ t: now, requests: 3, failed: 0, input_tokens: 10, output_tokens: 5, cost: 0.01 }] }),
    'GET /api/v1/stats/top': () => [{ key: '1', name: 'mock-openai', requests: 3, failed: 0, input_tokens: 10, output_tokens: 5, cost: 0.01, cache_hit_rate: null }],
    'GET /api/v1/logs': () => ({
      items: [
        {
          id: 77,
          time: now,
          api_key_id: 1,
          api_key_name: 'ci',
          client_ip: '127.0.0.1',
          requested_model: 'gpt-4o-mini',
          group_name: 'gpt-4o-mini',
          channel_id: 1,
          channel_name: 'mock-openai',
          upstream_model: 'gpt-4o-mini',
          status: 200,
          error: null,
          latency_ms: 420,
          ttft_ms: 120,
          input_tokens: 10,
          output_tokens: 5,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          reasoning_tokens: 0,
          cost: 0.01,
          stream: false,
          protocol_in: 'openai_chat',
          protocol_out: 'openai_chat',
        },
      ],
      next_cursor: null,
    }),
    'GET /api/v1/channels': () => [channel],
    'PUT /api/v1/channels/1': (body) => ({ ...channel, ...(body as object) }),
  });
}

describe('app shell', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signOut();
    router.navigate('/', true);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows the sign-in form when signed out', () => {
    gateway();
    render(App);
    expect(screen.getByTestId('login-form')).toBeTruthy();
    expect(screen.queryByTestId('nav')).toBeNull();
  });

  it('forces the password change before anything else', () => {
    gateway();
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: true }, 'admin');
    render(App);
    expect(screen.getByTestId('forced-password-change')).toBeTruthy();
    expect(screen.queryByTestId('nav')).toBeNull();
  });

  it('shows dashboard totals and the live feed', async () => {
    gateway();
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    render(App);

    await screen.findByTestId('total-requests');
    await waitFor(() => expect(screen.getByTestId('total-requests').textContent).toBe('1,234'));
    expect(screen.getByTestId('total-cost').textContent).toBe('$12.50');
    expect(screen.getByTestId('total-tokens-in').textContent).toBe('5.6M');
    expect(screen.getByTestId('total-success').textContent).toBe('97.2%');
    expect((await screen.findByTestId('live-feed')).textContent).toContain('gpt-4o-mini');
  });

  it('navigates to channels from the sidebar and toggles a channel off', async () => {
    const { calls } = gateway();
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    render(App);

    await fireEvent.click(screen.getByTestId('nav-channels'));
    expect(window.location.pathname).toBe('/channels');
    const card = await screen.findByTestId('channel-card');
    expect(card.textContent).toContain('mock-openai');

    await fireEvent.click(screen.getByTestId('channel-enabled'));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT' && c.path === '/api/v1/channels/1')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!.body as Record<string, unknown>;
    expect(put).toMatchObject({ name: 'mock-openai', enabled: false, base_urls: ['http://127.0.0.1:9999/v1'], keys: [{ id: 1, enabled: true, remark: null }] });
  });

  it('signs out when the token is rejected', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => new Response('{"error":{"code":"unauthorized","message":"expired"}}', { status: 401 }) });
    session.signIn({ token: 'stale', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    render(App);
    expect(await screen.findByTestId('login-form')).toBeTruthy();
    expect(session.signedIn).toBe(false);
  });

  it('shows not found for unknown client routes', async () => {
    gateway();
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    router.navigate('/nope', true);
    render(App);
    expect(await screen.findByTestId('not-found')).toBeTruthy();
  });
});
