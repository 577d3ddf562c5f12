import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import Channels from './Channels.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';

describe('channels page', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('creates a channel from the form, fetching models with the first URL and key', async () => {
    const { calls } = mockApi({
      'GET /api/v1/channels': () => [],
      'POST /api/v1/channels/fetch-models': () => ({ models: ['gpt-4o', 'gpt-4o-mini', 'whisper-1'] }),
      'POST /api/v1/channels': (body) => ({ id: 1, synced_models: [], created_at: '', updated_at: '', ...(body as object), keys: [] }),
    });
    render(Channels);

    await fireEvent.click(await screen.findByTestId('channel-new'));
    await fireEvent.input(screen.getByTestId('channel-name'), { target: { value: 'openai' } });
    await fireEvent.input(screen.getByTestId('channel-base-urls'), { target: { value: 'https://api.openai.com/v1/\nhttps://backup.example/v1' } });
    await fireEvent.input(screen.getByTestId('channel-keys-input'), { target: { value: 'sk-1\nsk-2\n' } });
    await fireEvent.input(screen.getByTestId('channel-model-filter'), { target: { value: '^gpt' } });
    await fireEvent.click(screen.getByTestId('channel-sync-models'));

    // The filter hides whisper-1; clicking a chip adds that model to the list.
    const chips = await screen.findByTestId('channel-upstream-models');
    expect(chips.textContent).not.toContain('whisper-1');
    await fireEvent.click(screen.getByText('gpt-4o-mini'));
    await fireEvent.click(screen.getByTestId('channel-save'));

    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/channels')).toBe(true));
    expect(calls.find((c) => c.path === '/api/v1/channels/fetch-models')!.body).toEqual({ type: 'openai', base_url: 'https://api.openai.com/v1/', key: 'sk-1' });
    expect(calls.find((c) => c.method === 'POST' && c.path === '/api/v1/channels')!.body).toMatchObject({
      name: 'openai',
      type: 'openai',
      base_urls: ['https://api.openai.com/v1', 'https://backup.example/v1'],
      keys: ['sk-1', 'sk-2'],
      models: ['gpt-4o-mini'],
      model_filter: '^gpt',
    });
    expect(await screen.findByTestId('channel-card')).toBeTruthy();
  });

  it('shows what each channel served in the last 24 hours, matched by channel id', async () => {
    const channel = (id: number, name: string) => ({
      id, name, type: 'openai', enabled: true, base_urls: ['https://a.example/v1'], models: ['gpt-4o'], synced_models: [],
      keys: [{ id, key: 'sk-ab…yz', enabled: true, status: 'active', status_reason: null, status_at: null, remark: null }],
      auto_sync: false, model_filter: null, headers: {}, proxy: null, param_override: null, probe_policy: 'passive',
      add_cache_breakpoints: false, created_at: '', updated_at: '',
    });
    let topQuery: URLSearchParams | null = null;
    mockApi({
      'GET /api/v1/channels': () => [channel(1, 'alpha'), channel(2, 'beta')],
      'GET /api/v1/stats/top': (_b, url) => {
        topQuery = url.searchParams;
        return [
          { key: '2', name: 'beta', requests: 1234, failed: 0, input_tokens: 1, output_tokens: 1, cost: 0.5, cache_hit_rate: 0 },
          { key: '0', name: '0', requests: 3, failed: 3, input_tokens: 0, output_tokens: 0, cost: 0, cache_hit_rate: 0 },
        ];
      },
    });
    render(Channels);

    await waitFor(() => expect(screen.getAllByTestId('channel-requests').map((e) => e.textContent)).toEqual(['0', '1.2K']));
    expect(topQuery!.get('by')).toBe('channel');
    expect(Number(topQuery!.get('limit'))).toBeLessThanOrEqual(100);
  });

  it('keeps the editor open and says what is missing', async () => {
    const { calls } = mockApi({ 'GET /api/v1/channels': () => [] });
    render(Channels);

    await fireEvent.click(await screen.findByTestId('channel-new'));
    await fireEvent.click(screen.getByTestId('channel-save'));

    expect(await screen.findByText('Give the channel a name.')).toBeTruthy();
    expect(screen.getByText('At least one key is needed.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('shows recent health on the card and per key in the editor', async () => {
    const health = (id: number | undefined, attempts: number, succeeded: number, lastError: boolean) => ({
      ...(id ? { id } : {}),
      window: 100,
      attempts,
      succeeded,
      success_rate: attempts ? succeeded / attempts : null,
      avg_latency_ms: attempts ? 420 : null,
      since: attempts ? '2026-01-01T00:00:00Z' : null,
      last_at: attempts ? '2026-01-01T00:01:00Z' : null,
      last_error: lastError ? { at: new Date(Date.now() - 120_000).toISOString(), status: 500, message: 'upstream 500: boom for ***' } : null,
    });
    const base = {
      type: 'openai', enabled: true, base_urls: ['https://a.example/v1'], models: ['gpt-4o'], synced_models: [],
      auto_sync: false, model_filter: null, headers: {}, proxy: null, param_override: null, probe_policy: 'passive',
      add_cache_breakpoints: false, created_at: '', updated_at: '',
    };
    const key = (id: number) => ({ id, key: 'sk-ab…yz', enabled: true, status: 'active', status_reason: null, status_at: null, remark: null });
    mockApi({
      'GET /api/v1/channels': () => [
        { ...base, id: 1, name: 'flaky', keys: [key(11), key(12)], health: { ...health(undefined, 8, 6, true), keys: [health(11, 8, 6, true), health(12, 0, 0, false)] } },
        { ...base, id: 2, name: 'quiet', keys: [key(21)], health: { ...health(undefined, 0, 0, false), keys: [health(21, 0, 0, false)] } },
      ],
      'GET /api/v1/stats/top': () => [],
    });
    render(Channels);

    const cards = await screen.findAllByTestId('channel-card');
    const flaky = within(cards[0]);
    expect(flaky.getByTestId('channel-health-rate').textContent).toContain('75.0% ok of 8');
    expect(flaky.getByTestId('channel-health-rate').className).toContain('warn');
    expect(flaky.getByTestId('channel-health').textContent).toContain('420 ms');
    expect(flaky.getByTestId('channel-last-error').textContent).toContain('Last error 2m ago (500):');
    expect(flaky.getByTestId('channel-last-error').textContent).toContain('upstream 500: boom for ***');
    expect(within(cards[1]).getByTestId('channel-health').textContent).toContain('No recent attempts');

    await fireEvent.click(flaky.getByTestId('channel-edit'));
    const keyHealth = await screen.findAllByTestId('channel-key-health');
    expect(keyHealth).toHaveLength(1); // the key without attempts shows nothing
    expect(keyHealth[0].textContent).toContain('75.0% ok of 8');
    expect(keyHealth[0].getAttribute('title')).toContain('upstream 500: boom for ***');
  });
});
