// History routing: the gateway answers every client route with index.html (SPA fallback), so paths are real URLs.
export const ROUTES = ['/', '/channels', '/groups', '/routes', '/keys', '/prices', '/logs', '/settings'] as const;
export type Route = (typeof ROUTES)[number];

class Router {
  path = $state('/');
  search = $state('');

  constructor() {
    if (typeof window === 'undefined') return;
    this.read();
    window.addEventListener('popstate', () => this.read());
  }

  private read(): void {
    this.path = normalizePath(window.location.pathname);
    this.search = window.location.search;
  }

  get route(): Route | null {
    return (ROUTES as readonly string[]).includes(this.path) ? (this.path as Route) : null;
  }

  get query(): URLSearchParams {
    return new URLSearchParams(this.search);
  }

  navigate(to: string, replace = false): void {
    const url = new URL(to, window.location.origin);
    const target = url.pathname + url.search;
    if (target !== window.location.pathname + window.location.search) {
      if (replace) history.replaceState(null, '', target);
      else history.pushState(null, '', target);
    }
    this.path = normalizePath(url.pathname);
    this.search = url.search;
    if (!replace) window.scrollTo?.(0, 0);
  }

  /** Updates the query string in place (filters), without a new history entry. */
  setQuery(values: Record<string, string | number | null | undefined>): void {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    this.navigate(this.path + (s ? '?' + s : ''), true);
  }
}

export function normalizePath(p: string): string {
  if (p.length > 1 && p.endsWith('/')) p = p.replace(/\/+$/, '');
  return p || '/';
}

export const router = new Router();

/** Delegated click handler: same-origin <a href> clicks route in-app instead of reloading. */
export function interceptLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = (event.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download') || a.getAttribute('rel') === 'external') return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('//')) return;
  event.preventDefault();
  router.navigate(href);
}
