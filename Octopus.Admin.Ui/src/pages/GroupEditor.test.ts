import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import GroupEditor from './GroupEditor.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';
import type { Channel, Group } from '../lib/api/types';

const stamp = '2026-01-01T00:00:00Z';
const channels = [
  { id: 1, name: 'alpha', type: 'openai', models: ['m-a'], synced_models: [], keys: [] },
  { id: 2, name: 'beta', type: 'openai', models: ['m-b'], synced_models: [], keys: [] },
] as unknown as Channel[];
const group: Group = {
  id: 5,
  name: 'chat',
  mode: 'failover',
  members: [
    { id: 10, channel_id: 1, model: 'm-a', priority: 0, weight: 1, pinned: false },
    { id: 11, channel_id: 2, model: 'm-b', priority: 1, weight: 1, pinned: false },
  ],
  settings: { attempts_per_member: null, retry_interval_ms: null, first_event_timeout_seconds: null, response_timeout_seconds: null, stream_idle_timeout_seconds: null, cooldown_seconds: null, affinity_seconds: null },
  aliases: [],
  visible: true,
  created_at: stamp,
  updated_at: stamp,
};

describe('group editor', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 't', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('saves the new member order as priorities', async () => {
    const { calls } = mockApi({ 'PUT /api/v1/groups/5': (body) => ({ ...group, ...(body as object) }) });
    const onsaved = vi.fn();
    render(GroupEditor, { group, channels, onclose: () => {}, onsaved });

    await fireEvent.click(screen.getAllByLabelText('Move down')[0]);
    await fireEvent.click(screen.getByTestId('group-save'));

    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const body = calls[0].body as Group;
    expect(body.members.map((m) => [m.id, m.priority])).toEqual([
      [11, 0],
      [10, 1],
    ]);
  });

  it('refuses a member without a model', async () => {
    const { calls } = mockApi({});
    render(GroupEditor, { group: null, channels, onclose: () => {}, onsaved: () => {} });

    await fireEvent.input(screen.getByTestId('group-name'), { target: { value: 'new-group' } });
    await fireEvent.click(screen.getByTestId('group-add-member'));
    await fireEvent.input(screen.getByTestId('member-model'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('group-save'));

    expect(await screen.findByText('Every member needs a channel and a model.')).toBeTruthy();
    expect(calls).toHaveLength(0);
  });
});
