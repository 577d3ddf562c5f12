// Logs page filters <-> URL query (so a filtered view can be bookmarked or linked from the dashboard).
import type { LogQuery } from './api/types';

export type LogPreset = '1h' | '24h' | '7d' | '30d' | 'all' | 'custom';

export interface LogFilters {
  preset: LogPreset;
  from: string;
  to: string;
  group: string;
  channel_id: string;
  api_key_id: string;
  status: string;
}

export const EMPTY_FILTERS: LogFilters = { preset: '24h', from: '', to: '', group: '', channel_id: '', api_key_id: '', status: '' };

const PRESET_MS: Record<Exclude<LogPreset, 'all' | 'custom'>, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

export function filtersFromQuery(q: URLSearchParams): LogFilters {
  const f = { ...EMPTY_FILTERS };
  for (const k of Object.keys(f) as (keyof LogFilters)[]) {
    const v = q.get(k);
    if (v !== null) (f as Record<string, string>)[k] = v;
  }
  if (!['1h', '24h', '7d', '30d', 'all', 'custom'].includes(f.preset)) f.preset = '24h';
  // The gateway takes ok | error | an exact code; links made before that said "success".
  if (f.status === 'success') f.status = 'ok';
  else if (f.status && !/^(ok|error|\d{3})$/.test(f.status)) f.status = '';
  return f;
}

export function filtersToQuery(f: LogFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    if ((k === 'from' || k === 'to') && f.preset !== 'custom') continue;
    if (k === 'preset' && v === EMPTY_FILTERS.preset) continue;
    out[k] = v;
  }
  return out;
}

/** The API query for the filters; presets are resolved against `now`. */
export function filtersToApi(f: LogFilters, now = Date.now()): LogQuery {
  const q: LogQuery = {};
  if (f.preset === 'custom') {
    if (f.from) q.from = new Date(f.from).toISOString();
    if (f.to) q.to = new Date(f.to).toISOString();
  } else if (f.preset !== 'all') {
    q.from = new Date(now - PRESET_MS[f.preset]).toISOString();
  }
  if (f.group) q.group = f.group;
  if (f.channel_id) q.channel_id = f.channel_id;
  if (f.api_key_id) q.api_key_id = f.api_key_id;
  if (f.status) q.status = f.status;
  return q;
}
