import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Prices from './Prices.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';

const price = (model: string, input: number, output: number, source: 'synced' | 'user' = 'synced') => ({
  model,
  input,
  output,
  cache_read: 0,
  cache_write: 0,
  source,
  synced: source === 'user' ? { input: 1, output: 2, cache_read: 0, cache_write: 0 } : null,
  updated_at: '2026-01-01T00:00:00Z',
});

describe('prices page', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  function gateway() {
    return mockApi({
      'GET /api/v1/prices': () => [price('gpt-4o', 2.5, 10), price('claude-sonnet-4-5', 3, 15, 'user'), price('gpt-4o-mini', 0.15, 0.6)],
      'GET /api/v1/prices/missing': () => ['deepseek-chat'],
      'PUT /api/v1/prices/gpt-4o-mini': (body) => ({ ...price('gpt-4o-mini', 0, 0, 'user'), ...(body as object) }),
    });
  }

  const models = () => screen.getAllByTestId('price-row').map((r) => r.querySelector('td')!.textContent!.replace('★', '').trim());

  it('searches, sorts by a column and marks overridden prices', async () => {
    gateway();
    render(Prices);
    await screen.findAllByTestId('price-row');
    expect(models()).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini']);
    expect(screen.getAllByTestId('price-row')[0].textContent).toContain('Overridden');

    await fireEvent.click(screen.getByRole('button', { name: /^Output/ }));
    expect(models()).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini']);
    await fireEvent.click(screen.getByRole('button', { name: /^Output/ }));
    expect(models()).toEqual(['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5']);

    await fireEvent.input(screen.getByTestId('price-search'), { target: { value: 'mini' } });
    expect(models()).toEqual(['gpt-4o-mini']);
  });

  it('lists models without a price and saves an override', async () => {
    const { calls } = gateway();
    render(Prices);
    await screen.findAllByTestId('price-row');

    await fireEvent.click(screen.getAllByTestId('price-edit')[2]);
    await fireEvent.input(screen.getByTestId('price-input'), { target: { value: '0.1' } });
    await fireEvent.click(screen.getByTestId('price-save'));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({ input: 0.1, output: 0.6, cache_read: 0, cache_write: 0, image: 0 });

    await fireEvent.click(screen.getByTestId('price-filter-missing'));
    expect(await screen.findByText('deepseek-chat')).toBeTruthy();
  });
});
