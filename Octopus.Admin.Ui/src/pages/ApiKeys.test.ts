import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import ApiKeys from './ApiKeys.svelte';
import Overlays from '../lib/components/Overlays.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';

const stamp = '2026-01-01T00:00:00Z';
const key = (id: number, name: string, extra = {}) => ({
  id,
  name,
  key_hint: 'sk-oc-ab…yz',
  enabled: true,
  expires_at: null,
  allowed_groups: [],
  budget: null,
  budget_period: 'total',
  rpm: null,
  tpm: null,
  max_concurrency: null,
  created_at: stamp,
  updated_at: stamp,
  ...extra,
});

describe('API keys page', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('creates a key and shows its secret once', async () => {
    const { calls } = mockApi({
      'GET /api/v1/api-keys': () => [],
      'GET /api/v1/groups': () => [{ id: 1, name: 'gpt-4o', mode: 'round_robin', members: [], settings: {}, aliases: [], visible: true, created_at: stamp, updated_at: stamp }],
      'POST /api/v1/api-keys': (body) => ({ ...key(9, (body as { name: string }).name), key: 'sk-oc-SECRET-123456' }),
    });
    render(ApiKeys);

    await fireEvent.click(await screen.findByTestId('key-new'));
    await fireEvent.input(screen.getByTestId('key-name'), { target: { value: 'laptop' } });
    await fireEvent.input(screen.getByTestId('key-budget'), { target: { value: '10' } });
    await fireEvent.click(screen.getByText('gpt-4o'));
    await fireEvent.click(screen.getByTestId('key-save'));

    expect((await screen.findByTestId('key-secret')).textContent).toBe('sk-oc-SECRET-123456');
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toMatchObject({ name: 'laptop', budget: 10, allowed_groups: ['gpt-4o'], expires_at: null, rpm: null });

    await fireEvent.click(screen.getByTestId('key-created-done'));
    await waitFor(() => expect(screen.queryByTestId('key-secret')).toBeNull());
    expect(screen.getAllByTestId('key-row')).toHaveLength(1);
  });

  it('shows spend against the budget from the stats of the budget period', async () => {
    mockApi({
      'GET /api/v1/api-keys': () => [key(3, 'ci', { budget: 20, budget_period: 'monthly' })],
      'GET /api/v1/groups': () => [],
      'GET /api/v1/stats/top': (_b, url) => {
        expect(url.searchParams.get('by')).toBe('api_key');
        return [{ key: '3', name: 'ci', requests: 4, failed: 0, input_tokens: 1, output_tokens: 1, cost: 5, cache_hit_rate: null }];
      },
    });
    render(ApiKeys);

    await waitFor(() => expect(screen.getByTestId('key-row').textContent).toContain('$5.00'));
    expect(screen.getByTestId('key-row').textContent).toContain('$20.00');
  });

  it('asks before deleting', async () => {
    const { calls } = mockApi({
      'GET /api/v1/api-keys': () => [key(3, 'ci')],
      'GET /api/v1/groups': () => [],
      'GET /api/v1/stats/top': () => [],
      'DELETE /api/v1/api-keys/3': () => undefined,
    });
    render(Overlays);
    render(ApiKeys);

    await fireEvent.click(await screen.findByTestId('key-delete'));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await fireEvent.click(await screen.findByTestId('confirm-ok'));

    await waitFor(() => expect(screen.queryByTestId('key-row')).toBeNull());
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/api-keys/3')).toBe(true);
  });

  it('edits per-group limits in the key editor', async () => {
    const { calls } = mockApi({
      'GET /api/v1/api-keys': () => [key(3, 'ci', { rpm: 100, group_limits: { 'gpt-4o': { rpm: 10, tpm: null, max_concurrency: 2 } } })],
      'GET /api/v1/groups': () => [],
      'GET /api/v1/stats/top': () => [],
      'PUT /api/v1/api-keys/3': (body) => key(3, 'ci', body as object),
    });
    render(ApiKeys);

    expect((await screen.findByTestId('key-group-limits-count')).textContent).toContain('+1 per group');
    await fireEvent.click(await screen.findByTestId('key-edit'));
    const rows = await screen.findAllByTestId('key-group-limit');
    expect(rows).toHaveLength(1);
    expect((screen.getByTestId('key-group-limit-group') as HTMLInputElement).value).toBe('gpt-4o');
    await fireEvent.click(screen.getByTestId('key-group-limit-add'));
    const groups = screen.getAllByTestId('key-group-limit-group');
    await fireEvent.input(groups[1], { target: { value: 'claude' } });
    await fireEvent.input(screen.getAllByTestId('key-group-limit-tpm')[1], { target: { value: '5000' } });
    await fireEvent.click(screen.getByTestId('key-save'));

    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toMatchObject({
      rpm: 100,
      group_limits: { 'gpt-4o': { rpm: 10, tpm: null, max_concurrency: 2 }, claude: { rpm: null, tpm: 5000, max_concurrency: null } },
    });
  });
});
