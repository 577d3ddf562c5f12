// The signed-in admin: bearer token (kept in localStorage so a reload stays signed in) and whether the
// default password must still be changed. The API client reads the token from here.
import { createClient, type ApiError } from './api/client';
import type { LoginReply } from './api/types';

const STORAGE_KEY = 'octopus.session';

interface Stored {
  token: string;
  expires_at: string;
  must_change_password: boolean;
  username: string;
}

export class Session {
  token = $state<string | null>(null);
  expiresAt = $state<string | null>(null);
  mustChangePassword = $state(false);
  username = $state<string>('');

  constructor(private readonly storage: Storage | null = typeof localStorage === 'undefined' ? null : localStorage) {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      if (!raw) return;
      const s = JSON.parse(raw) as Stored;
      if (!s.token || (s.expires_at && Date.parse(s.expires_at) <= Date.now())) {
        this.storage?.removeItem(STORAGE_KEY);
        return;
      }
      this.token = s.token;
      this.expiresAt = s.expires_at;
      this.mustChangePassword = !!s.must_change_password;
      this.username = s.username ?? '';
    } catch {
      this.storage?.removeItem(STORAGE_KEY);
    }
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  signIn(reply: LoginReply, username = this.username): void {
    this.token = reply.token;
    this.expiresAt = reply.expires_at;
    this.mustChangePassword = reply.must_change_password;
    this.username = username;
    this.save();
  }

  requirePasswordChange(): void {
    this.mustChangePassword = true;
    this.save();
  }

  signOut(): void {
    this.token = null;
    this.expiresAt = null;
    this.mustChangePassword = false;
    this.storage?.removeItem(STORAGE_KEY);
  }

  private save(): void {
    if (!this.token) return;
    const s: Stored = {
      token: this.token,
      expires_at: this.expiresAt ?? '',
      must_change_password: this.mustChangePassword,
      username: this.username,
    };
    this.storage?.setItem(STORAGE_KEY, JSON.stringify(s));
  }
}

export const session = new Session();

export function handleAuthError(s: Session, e: ApiError): void {
  if (e.status === 401) s.signOut();
  else if (e.code === 'password_change_required') s.requirePasswordChange();
}

export const api = createClient({
  token: () => session.token,
  onAuthError: (e) => handleAuthError(session, e),
});
