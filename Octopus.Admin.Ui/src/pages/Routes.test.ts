import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Routes from './Routes.svelte';
import Overlays from '../lib/components/Overlays.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { errorReply, mockApi } from '../test/mockApi';

const stamp = '2026-01-01T00:00:00Z';

const choose = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });
const group = (id: number, name: string) => ({ id, name, mode: 'failover', members: [], settings: {}, aliases: [], visible: true, created_at: stamp, updated_at: stamp });
const route = (id: number, name: string, extra = {}) => ({ id, name, priority: 0, match: {}, group: 'cheap', created_at: stamp, updated_at: stamp, ...extra });

describe('Routes page', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists rules in order with their conditions and group', async () => {
    mockApi({
      'GET /api/v1/routes': () => [
        route(2, 'haiku', { priority: 1, match: { model: 'claude-haiku-*', has_tools: true }, group: 'cheap' }),
        route(1, 'fallback', { priority: 9, group: 'long' }),
      ],
      'GET /api/v1/groups': () => [group(1, 'cheap'), group(2, 'long')],
    });
    render(Routes);

    const rows = await screen.findAllByTestId('route-row');
    expect(rows.map((r) => r.dataset.routeId)).toEqual(['2', '1']);
    expect(rows[0].textContent).toContain('Model claude-haiku-*');
    expect(rows[0].textContent).toContain('Tools');
    expect(rows[0].textContent).toContain('cheap');
    expect(rows[1].textContent).toContain('every request');
  });

  it('creates a rule with only the conditions that are set', async () => {
    let created: unknown = null;
    const { calls } = mockApi({
      'GET /api/v1/routes': () => (created ? [created] : []),
      'GET /api/v1/groups': () => [group(1, 'cheap'), group(2, 'long')],
      'POST /api/v1/routes': (body) => (created = { ...route(5, ''), ...(body as object) }),
    });
    render(Routes);

    await screen.findByTestId('routes-empty');
    await fireEvent.click(screen.getByTestId('route-new'));
    await fireEvent.input(screen.getByTestId('route-name'), { target: { value: 'long contexts' } });
    await fireEvent.input(screen.getByTestId('route-priority'), { target: { value: '20' } });
    await choose('route-group', 'long');
    await fireEvent.input(screen.getByTestId('route-tokens'), { target: { value: '60000' } });
    await choose('route-thinking', 'no');
    await fireEvent.input(screen.getByTestId('route-headers'), { target: { value: 'User-Agent: claude-cli/*' } });
    await fireEvent.click(screen.getByTestId('route-save'));

    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'long contexts',
      priority: 20,
      group: 'long',
      match: { min_input_tokens: 60000, thinking: false, header: { 'User-Agent': 'claude-cli/*' } },
    });
    expect((await screen.findAllByTestId('route-row')).length).toBe(1);
  });

  it('edits a rule, shows the gateway\'s validation error, and deletes after confirming', async () => {
    let fail = true;
    const { calls } = mockApi({
      'GET /api/v1/routes': () => [route(3, 'r', { match: { model: 're:^gpt' } })],
      'GET /api/v1/groups': () => [group(1, 'cheap')],
      'PUT /api/v1/routes/3': (body) =>
        fail ? errorReply(400, 'validation_failed', 'match.model: must be a valid regular expression after re:') : { ...route(3, 'r'), ...(body as object) },
      'DELETE /api/v1/routes/3': () => undefined,
    });
    render(Overlays);
    render(Routes);

    await fireEvent.click(await screen.findByTestId('route-edit'));
    expect((screen.getByTestId('route-model') as HTMLInputElement).value).toBe('re:^gpt');
    await fireEvent.input(screen.getByTestId('route-model'), { target: { value: 're:(' } });
    await fireEvent.click(screen.getByTestId('route-save'));
    expect(await screen.findByText(/must be a valid regular expression/)).toBeTruthy();
    expect(screen.getByTestId('route-editor')).toBeTruthy();

    fail = false;
    await fireEvent.input(screen.getByTestId('route-model'), { target: { value: 'gpt-*' } });
    await fireEvent.click(screen.getByTestId('route-save'));
    await waitFor(() => expect(screen.queryByTestId('route-editor')).toBeNull());
    expect(calls.filter((c) => c.method === 'PUT').at(-1)!.body).toMatchObject({ match: { model: 'gpt-*' } });

    await fireEvent.click(screen.getByTestId('route-delete'));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await fireEvent.click(await screen.findByTestId('confirm-ok'));
    await waitFor(() => expect(screen.queryByTestId('route-row')).toBeNull());
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/routes/3')).toBe(true);
  });
});
