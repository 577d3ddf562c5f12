import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Login from './Login.svelte';
import { session } from '../lib/session.svelte';
import { i18n } from '../lib/i18n/index.svelte';
import { errorReply, mockApi } from '../test/mockApi';

describe('Login page', () => {
  beforeEach(() => {
    session.signOut();
    i18n.set('en');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('signs in and remembers that the default password must be changed', async () => {
    const { calls } = mockApi({
      'POST /api/v1/auth/login': () => ({ token: 'tok', expires_at: '2999-01-01T00:00:00Z', must_change_password: true }),
    });
    render(Login);

    await fireEvent.input(screen.getByTestId('login-password'), { target: { value: 'admin' } });
    await fireEvent.click(screen.getByTestId('login-submit'));

    await waitFor(() => expect(session.token).toBe('tok'));
    expect(session.mustChangePassword).toBe(true);
    expect(session.username).toBe('admin');
    expect(calls[0].body).toEqual({ username: 'admin', password: 'admin' });
  });

  it('says the credentials are wrong on 401', async () => {
    mockApi({ 'POST /api/v1/auth/login': () => errorReply(401, 'invalid_credentials', 'bad') });
    render(Login);

    await fireEvent.input(screen.getByTestId('login-password'), { target: { value: 'nope' } });
    await fireEvent.click(screen.getByTestId('login-submit'));

    expect(await screen.findByTestId('login-error')).toHaveProperty('textContent', 'Wrong username or password.');
    expect(session.signedIn).toBe(false);
  });

  it('switches to Chinese', async () => {
    render(Login);
    await fireEvent.click(screen.getByTestId('lang-toggle'));
    expect(screen.getByTestId('login-submit').textContent).toContain('登录');
    i18n.set('en');
  });
});
