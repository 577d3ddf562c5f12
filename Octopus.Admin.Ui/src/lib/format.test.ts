import { describe, expect, it } from 'vitest';
import {
  fillSeries,
  filterModels,
  formatAgo,
  formatCompact,
  formatCost,
  formatMs,
  formatPercent,
  fromLocalInput,
  moveItem,
  parseHeaders,
  parseJsonObject,
  parseLines,
  prettyBody,
  rangeFor,
  statusTone,
  toLocalInput,
} from './format';

describe('formatting', () => {
  it('compacts large counts', () => {
    expect(formatCompact(999)).toBe('999');
    expect(formatCompact(1234)).toBe('1.2K');
    expect(formatCompact(1000)).toBe('1K');
    expect(formatCompact(5_600_000)).toBe('5.6M');
    expect(formatCompact(250_000_000)).toBe('250M');
    expect(formatCompact(null)).toBe('—');
  });

  it('shows costs with enough digits for tiny per-request amounts', () => {
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(12.345)).toBe('$12.35');
    expect(formatCost(0.25)).toBe('$0.25');
    expect(formatCost(0.0012)).toBe('$0.0012');
    expect(formatCost(0.000123)).toBe('$0.00012');
    expect(formatCost(1234.5)).toBe('$1,235');
    expect(formatCost(undefined)).toBe('—');
  });

  it('formats ratios, durations and ages', () => {
    expect(formatPercent(0.9876)).toBe('98.8%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(1530)).toBe('1.53 s');
    expect(formatMs(125_000)).toBe('2m 5s');
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAgo('2026-01-01T11:59:30Z', now)).toBe('30s');
    expect(formatAgo('2026-01-01T09:00:00Z', now)).toBe('3h');
  });

  it('maps statuses to tones', () => {
    expect(statusTone(200)).toBe('ok');
    expect(statusTone(429)).toBe('warn');
    expect(statusTone(400)).toBe('warn');
    expect(statusTone(502)).toBe('err');
    expect(statusTone(0)).toBe('err');
  });
});

describe('parsing form input', () => {
  it('splits lines, trims, drops blanks and duplicates', () => {
    expect(parseLines(' a \n\nb\r\na\n  ')).toEqual(['a', 'b']);
  });

  it('parses headers and reports the bad line', () => {
    expect(parseHeaders('X-A: 1\n\nX-B:two words')).toEqual({ headers: { 'X-A': '1', 'X-B': 'two words' }, error: null });
    expect(parseHeaders('X-A: 1\nno colon').error).toContain('line 2');
    expect(parseHeaders('Bad Name: x').error).not.toBeNull();
  });

  it('accepts only a JSON object for param override', () => {
    expect(parseJsonObject('')).toEqual({ value: null, error: null });
    expect(parseJsonObject('{"temperature":0.2}').value).toEqual({ temperature: 0.2 });
    expect(parseJsonObject('[1]').error).toBe('must be a JSON object');
    expect(parseJsonObject('{oops').error).not.toBeNull();
  });

  it('filters models by regex and survives a bad pattern', () => {
    const models = ['gpt-4o', 'gpt-4o-mini', 'o3', 'text-embedding-3'];
    expect(filterModels(models, '^gpt').models).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(filterModels(models, '').models).toEqual(models);
    const bad = filterModels(models, '(');
    expect(bad.models).toEqual(models);
    expect(bad.error).not.toBeNull();
  });

  it('round-trips datetime-local values', () => {
    const iso = '2026-03-04T05:06:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput('')).toBeNull();
  });

  it('moves list items for drag and drop', () => {
    expect(moveItem(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b'], 0, 5)).toEqual(['a', 'b']);
  });

  it('pretty-prints JSON bodies and leaves SSE text alone', () => {
    expect(prettyBody('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyBody('data: {"x":1}\n\n')).toBe('data: {"x":1}\n\n');
    expect(prettyBody(null)).toBe('');
  });
});

describe('time ranges and series', () => {
  it('uses hours for today and 7 days, days for 30 days', () => {
    const now = new Date('2026-05-10T15:30:00Z');
    expect(rangeFor('today', now).interval).toBe('hour');
    expect(rangeFor('7d', now)).toMatchObject({ interval: 'hour', from: '2026-05-03T15:30:00.000Z', to: '2026-05-10T15:30:00.000Z' });
    expect(rangeFor('30d', now).interval).toBe('day');
    const today = new Date(rangeFor('today', now).from);
    expect(today.getHours()).toBe(0);
    expect(today.getMinutes()).toBe(0);
  });

  it('fills hours without traffic with zeros', () => {
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-01-01T03:30:00Z', interval: 'hour' as const };
    const data = fillSeries(
      [
        { t: '2026-01-01T01:00:00Z', requests: 5, failed: 1, input_tokens: 100, output_tokens: 50, cost: 0.5 },
        { t: '2026-01-01T03:00:00Z', requests: 2, failed: 0, input_tokens: 10, output_tokens: 5, cost: 0.1 },
      ],
      range,
    );
    expect(data.t.length).toBe(4);
    expect(data.requests).toEqual([0, 5, 0, 2]);
    expect(data.failed).toEqual([0, 1, 0, 0]);
    expect(data.t[1] - data.t[0]).toBe(3600);
  });

  it('aligns day buckets on the points the gateway returns', () => {
    const range = { from: '2026-01-01T10:00:00Z', to: '2026-01-04T10:00:00Z', interval: 'day' as const };
    const data = fillSeries([{ t: '2026-01-03T00:00:00Z', requests: 9, failed: 0, input_tokens: 0, output_tokens: 0, cost: 1 }], range);
    expect(data.requests).toContain(9);
    expect(data.t.every((t) => t % 86400 === 0)).toBe(true);
    // Jan 1 (from 10:00), Jan 2, Jan 3, Jan 4 (until 10:00).
    expect(data.t.length).toBe(4);
    expect(new Date(data.t[0] * 1000).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(data.requests).toEqual([0, 0, 9, 0]);
  });
});

describe('short log times', () => {
  it('shows only the time today, month-day and minutes before', async () => {
    const { formatShortDateTime } = await import('./format');
    const now = new Date(2026, 4, 10, 15, 0, 0);
    expect(formatShortDateTime(new Date(2026, 4, 10, 9, 5, 7).toISOString(), now)).toBe('09:05:07');
    expect(formatShortDateTime(new Date(2026, 4, 9, 23, 59, 1).toISOString(), now)).toBe('05-09 23:59');
    expect(formatShortDateTime(new Date(2025, 11, 31, 8, 0, 0).toISOString(), now)).toBe('2025-12-31 08:00');
  });
});
