// Pure formatting and parsing helpers shared by the pages (unit-tested in format.test.ts).
import type { SeriesPoint } from './api/types';

export const DASH = '—';

export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

/** 1234 → 1.2K, 5_600_000 → 5.6M; small numbers stay exact. */
export function formatCompact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) {
      const v = n / size;
      const digits = Math.abs(v) >= 100 ? 0 : 1;
      return v.toFixed(digits).replace(/\.0$/, '') + suffix;
    }
  }
  return String(Math.round(n));
}

/** USD: cents for normal amounts, more digits for the tiny per-request costs LLM calls have. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return DASH;
  if (usd === 0) return '$0';
  const abs = Math.abs(usd);
  const sign = usd < 0 ? '-$' : '$';
  if (abs >= 1000) return sign + Math.round(abs).toLocaleString('en-US');
  if (abs >= 1) return sign + abs.toFixed(2);
  if (abs >= 0.01) return sign + abs.toFixed(3).replace(/0$/, '');
  const digits = Math.min(8, Math.max(2, -Math.floor(Math.log10(abs)) + 1));
  return (usd < 0 ? '-$' : '$') + abs.toFixed(digits);
}

/** A 0..1 ratio as a percentage; null when there is nothing to measure. */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  const pct = ratio * 100;
  if (pct === 100 || pct === 0) return pct + '%';
  return pct.toFixed(digits) + '%';
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60_000) return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) + ' s';
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m ${s}s`;
}

export function formatDateTime(iso: string | null | undefined, locale = 'en'): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

/** Time of day for today's entries, else month-day and time: short enough for a phone column. */
export function formatShortDateTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  // Older entries drop the seconds: the full time is in the tooltip and the detail drawer.
  const date = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getFullYear() === now.getFullYear() ? date : `${d.getFullYear()}-${date}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** "5s", "3m", "2h", "4d" since `iso`; future or unknown times give "". */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm';
  if (s < 86400) return Math.floor(s / 3600) + 'h';
  return Math.floor(s / 86400) + 'd';
}

/** Lines of a textarea: trimmed, empty ones and duplicates dropped, order kept. */
export function parseLines(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  return out;
}

/** Comma- or newline-separated list. */
export function parseList(text: string): string[] {
  return parseLines(text.replace(/,/g, '\n'));
}

/** "Name: value" lines → headers; the first bad line is reported. */
export function parseHeaders(text: string): { headers: Record<string, string>; error: string | null } {
  const headers: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { headers, error: `line ${i + 1}: expected "Name: value"` };
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, error: null };
}

export function headersToText(headers: Record<string, string> | null | undefined): string {
  return Object.entries(headers ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

/** Parses an optional JSON object (param override); empty text is null. */
export function parseJsonObject(text: string): { value: Record<string, unknown> | null; error: string | null } {
  const t = text.trim();
  if (!t) return { value: null, error: null };
  try {
    const v = JSON.parse(t);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { value: null, error: 'must be a JSON object' };
    return { value: v as Record<string, unknown>, error: null };
  } catch (e) {
    return { value: null, error: e instanceof Error ? e.message : 'invalid JSON' };
  }
}

/** Models matching an optional regex filter; a bad pattern matches everything and reports why. */
export function filterModels(models: string[], pattern: string | null | undefined): { models: string[]; error: string | null } {
  const p = (pattern ?? '').trim();
  if (!p) return { models, error: null };
  try {
    const re = new RegExp(p);
    return { models: models.filter((m) => re.test(m)), error: null };
  } catch (e) {
    return { models, error: e instanceof Error ? e.message : 'invalid regex' };
  }
}

export type RangeKind = 'today' | '7d' | '30d';
export interface TimeRange {
  from: string;
  to: string;
  interval: 'hour' | 'day';
}

/** Today = since local midnight (hourly); 7 days hourly; 30 days daily. */
export function rangeFor(kind: RangeKind, now = new Date()): TimeRange {
  const to = now.toISOString();
  if (kind === 'today') {
    const start = new Date(now);
    start.setHours(0, 0, 0, 0);
    return { from: start.toISOString(), to, interval: 'hour' };
  }
  const days = kind === '7d' ? 7 : 30;
  const from = new Date(now.getTime() - days * 86_400_000).toISOString();
  return { from, to, interval: kind === '7d' ? 'hour' : 'day' };
}

export interface ChartData {
  /** Bucket starts, Unix seconds. */
  t: number[];
  requests: number[];
  failed: number[];
  inputTokens: number[];
  outputTokens: number[];
  cost: number[];
}

/**
 * Lays the series on a regular grid from `from` to `to`, with zeros where a bucket is missing (the gateway sends
 * every bucket; the grid keeps the x axis honest if a point is absent anyway).
 */
export function fillSeries(points: SeriesPoint[], range: TimeRange): ChartData {
  const step = range.interval === 'hour' ? 3600 : 86400;
  const byT = new Map<number, SeriesPoint>();
  for (const p of points) {
    const t = Math.floor(Date.parse(p.t) / 1000);
    if (Number.isFinite(t)) byT.set(t - (t % step), p);
  }
  const start = Math.floor(Date.parse(range.from) / 1000);
  const end = Math.floor(Date.parse(range.to) / 1000);
  const out: ChartData = { t: [], requests: [], failed: [], inputTokens: [], outputTokens: [], cost: [] };
  // Hour buckets are UTC-aligned; day buckets follow the gateway's points when present.
  let first = start - (start % step);
  const known = [...byT.keys()].sort((a, b) => a - b);
  if (step === 86400 && known.length) first = known[0] - Math.ceil((known[0] - start) / step) * step;
  const maxBuckets = 24 * 400;
  for (let t = first, i = 0; t <= end && i < maxBuckets; t += step, i++) {
    const p = byT.get(t);
    out.t.push(t);
    out.requests.push(p?.requests ?? 0);
    out.failed.push(p?.failed ?? 0);
    out.inputTokens.push(p?.input_tokens ?? 0);
    out.outputTokens.push(p?.output_tokens ?? 0);
    out.cost.push(p?.cost ?? 0);
  }
  return out;
}

/** HTTP status → badge tone. */
export function statusTone(status: number): 'ok' | 'warn' | 'err' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status === 499 || (status >= 400 && status < 500)) return 'warn';
  return 'err';
}

/** The datetime-local input's value for an RFC 3339 time (local clock), and back. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A form field's text: number inputs bound with bind:value hold numbers (or null when empty), not strings. */
export function fieldText(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value).trim();
}

/** Optional number field: '' → null. */
export function optionalNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Pretty-prints a captured body when it is JSON, else returns it unchanged. */
export function prettyBody(body: string | null | undefined): string {
  if (!body) return '';
  const t = body.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      // not JSON after all (e.g. an SSE transcript)
    }
  }
  return body;
}

/** Moves item `from` to index `to` (drag-and-drop reorder). */
export function moveItem<T>(list: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || from >= list.length || to < 0 || to >= list.length) return list.slice();
  const copy = list.slice();
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}
