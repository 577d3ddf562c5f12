import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import SelfService from './SelfService.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { errorReply, mockApi } from '../test/mockApi';
import { limitShare, loadSelfKey } from '../lib/selfKey';

const totals = (requests: number, cost: number, from: string | null = null) => ({
  from,
  requests,
  succeeded: requests - 1,
  failed: 1,
  input_tokens: requests * 12,
  output_tokens: requests * 5,
  cost,
});

const view = {
  name: 'alice',
  key_hint: 'sk-oc-ab…yz',
  enabled: true,
  expires_at: null,
  allowed_groups: ['gpt-4o'],
  budget: 10,
  budget_period: 'monthly',
  budget_used: 2.5,
  budget_left: 7.5,
  budget_resets_at: '2026-02-01T00:00:00Z',
  usage: { today: totals(3, 0.5, '2026-01-15T00:00:00Z'), period: totals(20, 2.5, '2026-01-01T00:00:00Z'), total: totals(50, 9) },
  limits: {
    rpm: 60,
    tpm: null,
    max_concurrency: 2,
    window: { requests: 15, tokens: 1200, in_flight: 1 },
    groups: { 'gpt-4o': { rpm: null, tpm: 5000, max_concurrency: null, window: { requests: 4, tokens: 1000, in_flight: 0 } } },
  },
};

describe('key self-service page', () => {
  beforeEach(() => {
    i18n.set('en');
    sessionStorage.clear();
    session.signOut();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('signs in with a client key, keeps it in sessionStorage only and shows usage, budget and limits', async () => {
    const { calls } = mockApi({ 'GET /api/v1/self': () => view });
    render(SelfService);

    await fireEvent.input(screen.getByTestId('self-key'), { target: { value: ' sk-oc-alice-secret ' } });
    await fireEvent.click(screen.getByTestId('self-submit'));

    expect((await screen.findByTestId('self-name')).textContent).toBe('alice');
    const call = calls.find((c) => c.path === '/api/v1/self')!;
    expect(call.headers.Authorization).toBe('Bearer sk-oc-alice-secret');
    expect(loadSelfKey()).toBe('sk-oc-alice-secret');
    expect(localStorage.getItem('octopus.selfKey')).toBeNull();
    expect(session.signedIn).toBe(false); // the admin session is a different thing

    expect(screen.getByTestId('self-budget').textContent).toContain('$2.50 / $10.00');
    expect(screen.getByTestId('self-budget-left').textContent).toContain('$7.50');
    expect(screen.getByTestId('self-usage-today').textContent).toContain('3');
    expect(screen.getByTestId('self-usage-total').textContent).toContain('$9.00');
    const limits = screen.getByTestId('self-limits').textContent!;
    expect(limits).toContain('Requests per minute');
    expect(limits).toContain('25%'); // 15 of 60
    expect(limits).toContain('gpt-4o');
    expect(limits).toContain('5,000');

    await fireEvent.click(screen.getByTestId('self-signout'));
    expect(loadSelfKey()).toBeNull();
    expect(await screen.findByTestId('self-form')).toBeTruthy();
  });

  it('shows why a key is refused and forgets it', async () => {
    mockApi({ 'GET /api/v1/self': () => errorReply(401, 'unauthorized', 'this API key has expired') });
    render(SelfService);

    await fireEvent.input(screen.getByTestId('self-key'), { target: { value: 'sk-oc-old' } });
    await fireEvent.click(screen.getByTestId('self-submit'));

    expect((await screen.findByTestId('self-error')).textContent).toContain('this API key has expired');
    expect(loadSelfKey()).toBeNull();
  });

  it('reuses the key of this tab on reload', async () => {
    sessionStorage.setItem('octopus.selfKey', 'sk-oc-stored');
    const { calls } = mockApi({ 'GET /api/v1/self': () => view });
    render(SelfService);
    await waitFor(() => expect(screen.getByTestId('self-view')).toBeTruthy());
    expect(calls[0].headers.Authorization).toBe('Bearer sk-oc-stored');
  });

  it('computes the share of a limit in use', () => {
    expect(limitShare(15, 60)).toBe(0.25);
    expect(limitShare(80, 60)).toBe(1);
    expect(limitShare(3, null)).toBeNull();
  });
});
