import { describe, expect, it } from 'vitest';
import { filtersFromQuery, filtersToApi, filtersToQuery } from './logFilters';

describe('log filters', () => {
  it('default to the last 24 hours', () => {
    const f = filtersFromQuery(new URLSearchParams());
    const now = Date.parse('2026-02-02T12:00:00Z');
    expect(filtersToApi(f, now)).toEqual({ from: '2026-02-01T12:00:00.000Z' });
    expect(filtersToQuery(f)).toEqual({});
  });

  it('round-trip through the URL', () => {
    const f = filtersFromQuery(new URLSearchParams('preset=7d&group=gpt-4o&status=error&channel_id=3'));
    expect(f).toMatchObject({ preset: '7d', group: 'gpt-4o', status: 'error', channel_id: '3' });
    expect(filtersToQuery(f)).toEqual({ preset: '7d', group: 'gpt-4o', status: 'error', channel_id: '3' });
    expect(filtersToApi(f, 0)).toMatchObject({ group: 'gpt-4o', status: 'error', channel_id: '3' });
  });

  it('send no time bound for all time and the given bounds for custom', () => {
    expect(filtersToApi(filtersFromQuery(new URLSearchParams('preset=all')))).toEqual({});
    const custom = filtersFromQuery(new URLSearchParams('preset=custom&from=2026-01-01T00:00&to=2026-01-02T00:00'));
    const q = filtersToApi(custom);
    expect(q.from).toBe(new Date('2026-01-01T00:00').toISOString());
    expect(q.to).toBe(new Date('2026-01-02T00:00').toISOString());
    expect(filtersToQuery(custom)).toMatchObject({ from: '2026-01-01T00:00', to: '2026-01-02T00:00' });
  });

  it('ignore an unknown preset', () => {
    expect(filtersFromQuery(new URLSearchParams('preset=bogus')).preset).toBe('24h');
  });

  it('speak the gateway status values: ok, error or an exact code', () => {
    expect(filtersFromQuery(new URLSearchParams('status=success')).status).toBe('ok');
    expect(filtersFromQuery(new URLSearchParams('status=429')).status).toBe('429');
    expect(filtersFromQuery(new URLSearchParams('status=bogus')).status).toBe('');
    expect(filtersToApi(filtersFromQuery(new URLSearchParams('status=ok')), 0)).toMatchObject({ status: 'ok' });
  });
});
