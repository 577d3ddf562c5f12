// A fake gateway for component tests: routes "METHOD /path" (query ignored) to handlers; unknown routes 404.
import { vi } from 'vitest';

export type Handler = (body: unknown, url: URL) => unknown | Response;

export function mockApi(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; body: unknown; headers: Record<string, string> }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://octopus.test');
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname, body, headers: (init?.headers ?? {}) as Record<string, string> });
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) {
      return new Response(JSON.stringify({ error: { code: 'not_found', message: `${method} ${url.pathname}` } }), { status: 404 });
    }
    const out = handler(body, url);
    if (out instanceof Response) return out;
    return new Response(out === undefined ? null : JSON.stringify(out), {
      status: out === undefined ? 204 : 200,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch, calls };
}

export function errorReply(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'Content-Type': 'application/json' } });
}
