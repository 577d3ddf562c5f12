import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import ChangePassword from './ChangePassword.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { mockApi } from '../test/mockApi';

async function fill(old: string, next: string, repeat: string) {
  await fireEvent.input(screen.getByTestId('password-old'), { target: { value: old } });
  await fireEvent.input(screen.getByTestId('password-new'), { target: { value: next } });
  await fireEvent.input(screen.getByTestId('password-repeat'), { target: { value: repeat } });
  await fireEvent.submit(screen.getByTestId('password-form'));
}

describe('forced password change', () => {
  beforeEach(() => {
    i18n.set('en');
    session.signIn({ token: 'first', expires_at: '2999-01-01T00:00:00Z', must_change_password: true }, 'admin');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('does not send mismatched passwords', async () => {
    const { calls } = mockApi({});
    render(ChangePassword, { forced: true });
    expect(screen.getByTestId('forced-password-change')).toBeTruthy();

    await fill('admin', 'correct horse', 'correct hose');

    expect(await screen.findByText('The two new passwords differ.')).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it('changes the password and lifts the restriction with the new token', async () => {
    const { calls } = mockApi({
      'POST /api/v1/auth/password': () => ({ token: 'second', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }),
    });
    render(ChangePassword, { forced: true });

    await fill('admin', 'correct horse', 'correct horse');

    await waitFor(() => expect(session.mustChangePassword).toBe(false));
    expect(session.token).toBe('second');
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/v1/auth/password', body: { old_password: 'admin', new_password: 'correct horse' } });
    expect(calls[0].headers.Authorization).toBe('Bearer first');
  });
});
