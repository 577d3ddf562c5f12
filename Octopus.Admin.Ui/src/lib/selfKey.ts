// The client API key a key holder signed in with on the /self page. Kept in sessionStorage only: it is a relay
// credential, so it goes away with the tab and is never shared with the admin session.
const STORAGE_KEY = 'octopus.selfKey';

function store(): Storage | null {
  return typeof sessionStorage === 'undefined' ? null : sessionStorage;
}

export function loadSelfKey(): string | null {
  try {
    return store()?.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function saveSelfKey(key: string): void {
  store()?.setItem(STORAGE_KEY, key);
}

export function clearSelfKey(): void {
  store()?.removeItem(STORAGE_KEY);
}

/** Share of a limit in use, 0..1; null without a limit. */
export function limitShare(used: number, limit: number | null): number | null {
  if (limit === null || limit <= 0) return null;
  return Math.min(1, used / limit);
}
