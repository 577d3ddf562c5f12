import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from './api/client';
import { Session, handleAuthError } from './session.svelte';

describe('session', () => {
  beforeEach(() => localStorage.clear());

  it('survives a reload while the token is valid', () => {
    const a = new Session(localStorage);
    a.signIn({ token: 'tok', expires_at: '2999-01-01T00:00:00Z', must_change_password: true }, 'admin');
    const b = new Session(localStorage);
    expect(b.token).toBe('tok');
    expect(b.mustChangePassword).toBe(true);
    expect(b.username).toBe('admin');
  });

  it('drops an expired token on load', () => {
    localStorage.setItem('octopus.session', JSON.stringify({ token: 'old', expires_at: '2000-01-01T00:00:00Z', must_change_password: false, username: 'a' }));
    const s = new Session(localStorage);
    expect(s.signedIn).toBe(false);
    expect(localStorage.getItem('octopus.session')).toBeNull();
  });

  it('ignores a corrupt stored session', () => {
    localStorage.setItem('octopus.session', '{not json');
    expect(new Session(localStorage).signedIn).toBe(false);
  });

  it('signs out on 401 and demands a password change on password_change_required', () => {
    const s = new Session(localStorage);
    s.signIn({ token: 'tok', expires_at: '2999-01-01T00:00:00Z', must_change_password: false }, 'admin');
    handleAuthError(s, new ApiError(403, 'password_change_required', 'change'));
    expect(s.mustChangePassword).toBe(true);
    expect(new Session(localStorage).mustChangePassword).toBe(true);
    handleAuthError(s, new ApiError(401, 'unauthorized', 'expired'));
    expect(s.signedIn).toBe(false);
    expect(new Session(localStorage).signedIn).toBe(false);
  });
});
