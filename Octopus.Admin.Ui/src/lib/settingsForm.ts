// Settings form <-> partial PUT: only the fields the user changed are sent.
import type { Settings } from './api/types';
import { fieldText, parseLines } from './format';

export interface SettingsForm {
  stats_save_interval: string | number | null;
  log_retention_days: string | number | null;
  body_capture: Settings['body_capture'];
  body_sample_percent: string | number | null;
  body_max_bytes: string | number | null;
  body_retention_days: string | number | null;
  price_sync_interval_hours: string | number | null;
  price_source_url: string;
  model_sync_interval_hours: string | number | null;
  cors_allow_origins: string;
  proxy: string;
  notify_webhook_url: string;
  notify_webhook_format: Settings['notify_webhook_format'];
  notify_interval_minutes: string | number | null;
  notify_max_per_hour: string | number | null;
}

const NUMERIC = [
  'stats_save_interval',
  'log_retention_days',
  'body_sample_percent',
  'body_max_bytes',
  'body_retention_days',
  'price_sync_interval_hours',
  'model_sync_interval_hours',
  'notify_interval_minutes',
  'notify_max_per_hour',
] as const;

export function settingsToForm(s: Settings): SettingsForm {
  return {
    stats_save_interval: String(s.stats_save_interval ?? ''),
    log_retention_days: String(s.log_retention_days ?? ''),
    body_capture: s.body_capture ?? 'off',
    body_sample_percent: String(s.body_sample_percent ?? ''),
    body_max_bytes: String(s.body_max_bytes ?? ''),
    body_retention_days: String(s.body_retention_days ?? ''),
    price_sync_interval_hours: String(s.price_sync_interval_hours ?? ''),
    price_source_url: s.price_source_url ?? '',
    model_sync_interval_hours: String(s.model_sync_interval_hours ?? ''),
    cors_allow_origins: (s.cors_allow_origins ?? []).join('\n'),
    proxy: s.proxy ?? '',
    notify_webhook_url: s.notify_webhook_url ?? '',
    notify_webhook_format: s.notify_webhook_format ?? 'generic',
    notify_interval_minutes: String(s.notify_interval_minutes ?? ''),
    notify_max_per_hour: String(s.notify_max_per_hour ?? ''),
  };
}

/** The changed fields as a partial update, or the first invalid field's name. */
export function settingsPatch(original: Settings, form: SettingsForm): { patch: Partial<Settings>; invalid: string | null } {
  const patch: Partial<Settings> = {};
  for (const k of NUMERIC) {
    const raw = fieldText(form[k]);
    const n = Number(raw);
    if (!raw || !Number.isFinite(n) || n < 0) return { patch, invalid: k };
    if (k === 'body_sample_percent' && n > 100) return { patch, invalid: k };
    if (n !== original[k]) (patch as Record<string, number>)[k] = n;
  }
  if (form.body_capture !== original.body_capture) patch.body_capture = form.body_capture;
  if (form.price_source_url.trim() !== (original.price_source_url ?? '')) patch.price_source_url = form.price_source_url.trim();
  const origins = parseLines(form.cors_allow_origins);
  if (origins.join('\n') !== (original.cors_allow_origins ?? []).join('\n')) patch.cors_allow_origins = origins;
  // The gateway's proxy setting is "" when direct; it rejects null.
  const proxy = form.proxy.trim();
  if (proxy !== (original.proxy ?? '')) patch.proxy = proxy;
  const webhook = form.notify_webhook_url.trim();
  if (webhook !== (original.notify_webhook_url ?? '')) patch.notify_webhook_url = webhook;
  if (form.notify_webhook_format !== original.notify_webhook_format) patch.notify_webhook_format = form.notify_webhook_format;
  return { patch, invalid: null };
}
