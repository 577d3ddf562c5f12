import { describe, expect, it, vi } from 'vitest';
import { ApiError, buildQuery, createClient } from './client';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function setup(reply: Response | (() => Response) = jsonResponse(200, {}), token: string | null = 'tok') {
  const fetch = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => (typeof reply === 'function' ? reply() : reply.clone()));
  const onAuthError = vi.fn();
  const api = createClient({ fetch: fetch as unknown as typeof globalThis.fetch, token: () => token, onAuthError });
  const call = (i = 0) => ({ url: String(fetch.mock.calls[i][0]), init: fetch.mock.calls[i][1]! });
  return { api, fetch, onAuthError, call };
}

describe('api client', () => {
  it('sends the bearer token and JSON body to the planned path', async () => {
    const { api, call } = setup(jsonResponse(200, { token: 't2', expires_at: '2030-01-01T00:00:00Z', must_change_password: false }));
    const reply = await api.auth.changePassword('admin', 'new-password');

    const { url, init } = call();
    expect(url).toBe('/api/v1/auth/password');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(JSON.parse(init.body as string)).toEqual({ old_password: 'admin', new_password: 'new-password' });
    expect(reply.token).toBe('t2');
  });

  it('omits Authorization when signed out', async () => {
    const { api, call } = setup(jsonResponse(200, { token: 't', expires_at: '', must_change_password: true }), null);
    await api.auth.login('admin', 'admin');
    expect((call().init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('builds log queries without empty filters', async () => {
    const { api, call } = setup(jsonResponse(200, { items: [], next_cursor: null }));
    await api.logs.list({ group: 'gpt-4o', channel_id: 3, status: '', cursor: undefined, limit: 50 });
    expect(call().url).toBe('/api/v1/logs?group=gpt-4o&channel_id=3&limit=50');
  });

  it('keeps the slashes of a model name in the price path (the gateway would keep %2F in the name)', async () => {
    const { api, call } = setup(jsonResponse(200, {}));
    await api.prices.update('openrouter/gpt-4o', { input: 1, output: 2, cache_read: 0, cache_write: 0 });
    expect(call().url).toBe('/api/v1/prices/openrouter/gpt-4o');
    expect(call().init.method).toBe('PUT');
    await api.prices.update('my model?v=1#x', { input: 1, output: 2, cache_read: 0, cache_write: 0 });
    expect(call(1).url).toBe('/api/v1/prices/my%20model%3Fv%3D1%23x');
  });

  it('maps the gateway error body to ApiError', async () => {
    const { api } = setup(jsonResponse(409, { error: { code: 'duplicate_name', message: 'name taken' } }));
    const err = await api.channels.create({} as never).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'duplicate_name', message: 'name taken' });
  });

  it('keeps a readable message when the error body is not JSON', async () => {
    const { api } = setup(new Response('upstream exploded', { status: 502, statusText: 'Bad Gateway' }));
    const err = await api.channels.list().catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'http_502', message: 'upstream exploded' });
  });

  it('reports 401 and password_change_required to the session', async () => {
    const a = setup(jsonResponse(401, { error: { code: 'unauthorized', message: 'expired' } }));
    await a.api.channels.list().catch(() => {});
    expect(a.onAuthError).toHaveBeenCalledWith(expect.objectContaining({ status: 401 }));

    const b = setup(jsonResponse(403, { error: { code: 'password_change_required', message: 'change it' } }));
    await b.api.groups.list().catch(() => {});
    expect(b.onAuthError).toHaveBeenCalledWith(expect.objectContaining({ code: 'password_change_required' }));

    const c = setup(jsonResponse(403, { error: { code: 'forbidden', message: 'no' } }));
    await c.api.groups.list().catch(() => {});
    expect(c.onAuthError).not.toHaveBeenCalled();
  });

  it('turns a transport failure into a network ApiError', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const api = createClient({ fetch: fetch as unknown as typeof globalThis.fetch, token: () => null });
    const err = await api.stats.total().catch((e) => e);
    expect(err).toMatchObject({ status: 0, code: 'network' });
  });

  it('returns undefined for 204 replies', async () => {
    const { api, call } = setup(new Response(null, { status: 204 }));
    await expect(api.channels.remove(5)).resolves.toBeUndefined();
    expect(call().init.method).toBe('DELETE');
    expect(call().url).toBe('/api/v1/channels/5');
  });

  it('sends PUT key edits as strings for new secrets and objects for kept keys', async () => {
    const { api, call } = setup(jsonResponse(200, {}));
    await api.channels.update(2, { keys: [{ id: 7, enabled: false, remark: 'old' }, 'sk-new'] });
    expect(JSON.parse(call().init.body as string).keys).toEqual([{ id: 7, enabled: false, remark: 'old' }, 'sk-new']);
  });

  it('asks stats with the time window and interval', async () => {
    const { api, call } = setup(jsonResponse(200, { points: [] }));
    await api.stats.series('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', 'hour');
    expect(call().url).toBe('/api/v1/stats/series?from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z&interval=hour');
  });

  it('downloads a backup with the file name the gateway suggests', async () => {
    const { api, call } = setup(
      new Response('{"channels":[]}', { status: 200, headers: { 'Content-Disposition': 'attachment; filename="octopus-2026.json"' } }),
    );
    const { blob, filename } = await api.backup.export(true);
    expect(call().url).toBe('/api/v1/backup?include_keys=true');
    expect(filename).toBe('octopus-2026.json');
    expect(await blob.text()).toBe('{"channels":[]}');
  });

  it('imports a backup file text unchanged', async () => {
    const { api, call } = setup(jsonResponse(200, { imported: true }));
    await api.backup.import('{"groups":[]}');
    expect(call().init.body).toBe('{"groups":[]}');
    expect(call().init.method).toBe('POST');
  });

  it('buildQuery skips null, undefined and empty values', () => {
    expect(buildQuery({ a: 1, b: null, c: undefined, d: '', e: false })).toBe('?a=1&e=false');
    expect(buildQuery({})).toBe('');
  });
});
