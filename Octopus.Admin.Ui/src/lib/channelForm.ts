// The channel editor's state and its mapping to the API body (kept out of the component so it is unit-tested).
import type { Channel, ChannelEndpoint, ChannelHealth, ChannelInput, ChannelKey, ChannelKeyEdit, ChannelType, ProbePolicy } from './api/types';
import { headersToText, parseHeaders, parseJsonObject, parseLines } from './format';

export const TYPE_LABELS: Record<ChannelType, string> = {
  openai: 'OpenAI Chat',
  openai_responses: 'OpenAI Responses',
  anthropic: 'Anthropic',
  gemini: 'Gemini',
  volcengine: 'Volcengine',
};

export const BASE_URL_EXAMPLES: Record<ChannelType, string> = {
  openai: 'https://api.openai.com/v1',
  openai_responses: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
  volcengine: 'https://ark.cn-beijing.volces.com/api/v3',
};

/** The wire protocol each channel type speaks: a multi-protocol channel lists each protocol once. */
const PROTOCOL_OF: Record<ChannelType, string> = {
  openai: 'openai_chat',
  volcengine: 'openai_chat',
  openai_responses: 'openai_responses',
  anthropic: 'anthropic',
  gemini: 'gemini',
};

/** Extra endpoints as editor text: one `type url` per line; several lines of one type are its fallback URLs. */
export function endpointsToText(endpoints: ChannelEndpoint[] | undefined): string {
  return (endpoints ?? []).flatMap((e) => e.base_urls.map((u) => `${e.type} ${u}`)).join('\n');
}

/** Parses `type url` lines; null = a line is not a known type followed by an http(s) URL. */
export function parseEndpoints(text: string): ChannelEndpoint[] | null {
  const out: ChannelEndpoint[] = [];
  for (const line of parseLines(text)) {
    const [type, url, ...rest] = line.split(/\s+/);
    if (rest.length > 0 || !url || !(type in TYPE_LABELS) || !URL_RE.test(url)) return null;
    const clean = url.replace(/\/+$/, '');
    const existing = out.find((e) => e.type === type);
    if (existing) existing.base_urls.push(clean);
    else out.push({ type: type as ChannelType, base_urls: [clean] });
  }
  return out;
}

export interface KeyRow {
  id: number;
  masked: string;
  enabled: boolean;
  remark: string;
  status: ChannelKey['status'];
  statusReason: string | null;
  revealed?: string;
}

export interface ChannelForm {
  name: string;
  type: ChannelType;
  enabled: boolean;
  baseUrls: string;
  endpoints: string;
  existingKeys: KeyRow[];
  newKeys: string;
  models: string;
  autoSync: boolean;
  modelFilter: string;
  headers: string;
  proxy: string;
  paramOverride: string;
  probePolicy: ProbePolicy;
  addCacheBreakpoints: boolean;
}

export function channelToForm(c?: Channel | null): ChannelForm {
  return {
    name: c?.name ?? '',
    type: c?.type ?? 'openai',
    enabled: c?.enabled ?? true,
    baseUrls: (c?.base_urls ?? []).join('\n'),
    endpoints: endpointsToText(c?.endpoints),
    existingKeys: (c?.keys ?? []).map((k) => ({
      id: k.id,
      masked: k.key,
      enabled: k.enabled,
      remark: k.remark ?? '',
      status: k.status,
      statusReason: k.status_reason,
    })),
    newKeys: '',
    models: (c?.models ?? []).join('\n'),
    autoSync: c?.auto_sync ?? false,
    modelFilter: c?.model_filter ?? '',
    headers: headersToText(c?.headers),
    proxy: c?.proxy ?? '',
    paramOverride: c?.param_override ? JSON.stringify(c.param_override, null, 2) : '',
    probePolicy: c?.probe_policy ?? 'passive',
    addCacheBreakpoints: c?.add_cache_breakpoints ?? false,
  };
}

export type FormErrors = Partial<Record<'name' | 'baseUrls' | 'endpoints' | 'keys' | 'modelFilter' | 'headers' | 'proxy' | 'paramOverride', string>>;

const URL_RE = /^https?:\/\/[^\s/]+/i;
const PROXY_RE = /^(https?|socks5h?):\/\/[^\s/]+/i;

/** Validates the form and builds the POST/PUT body; `errors` holds i18n keys (plus detail) per field. */
export function formToInput(form: ChannelForm): { input: ChannelInput; errors: FormErrors } {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'channels.err.name';

  const baseUrls = parseLines(form.baseUrls).map((u) => u.replace(/\/+$/, ''));
  if (baseUrls.length === 0) errors.baseUrls = 'channels.err.baseUrlRequired';
  else if (baseUrls.some((u) => !URL_RE.test(u))) errors.baseUrls = 'channels.err.baseUrlInvalid';

  const endpoints = parseEndpoints(form.endpoints);
  if (endpoints === null) errors.endpoints = 'channels.err.endpoints';
  else {
    const seen = new Set([PROTOCOL_OF[form.type]]);
    for (const e of endpoints) {
      if (seen.has(PROTOCOL_OF[e.type])) errors.endpoints = 'channels.err.endpointTwice';
      seen.add(PROTOCOL_OF[e.type]);
    }
  }

  const added = parseLines(form.newKeys);
  const keys: ChannelKeyEdit[] = [
    ...form.existingKeys.map((k) => ({ id: k.id, enabled: k.enabled, remark: k.remark.trim() || null })),
    ...added,
  ];
  if (keys.length === 0) errors.keys = 'channels.err.keys';

  if (form.modelFilter.trim()) {
    try {
      new RegExp(form.modelFilter.trim());
    } catch {
      errors.modelFilter = 'channels.err.regex';
    }
  }

  const headers = parseHeaders(form.headers);
  if (headers.error) errors.headers = 'channels.err.headers';

  const proxy = form.proxy.trim();
  if (proxy && !PROXY_RE.test(proxy)) errors.proxy = 'channels.err.proxy';

  const override = parseJsonObject(form.paramOverride);
  if (override.error) errors.paramOverride = 'channels.err.json';

  return {
    input: {
      name,
      type: form.type,
      enabled: form.enabled,
      base_urls: baseUrls,
      endpoints: endpoints ?? [],
      keys,
      models: parseLines(form.models),
      auto_sync: form.autoSync,
      model_filter: form.modelFilter.trim() || null,
      headers: headers.headers,
      proxy: proxy || null,
      param_override: override.value,
      probe_policy: form.probePolicy,
      add_cache_breakpoints: form.addCacheBreakpoints,
    },
    errors,
  };
}

/** A one-line health summary for a channel card. */
export function keySummary(keys: ChannelKey[]): { total: number; active: number; setAside: number; disabled: number } {
  let active = 0,
    setAside = 0,
    disabled = 0;
  for (const k of keys) {
    if (!k.enabled) disabled++;
    else if (k.status === 'set_aside') setAside++;
    else active++;
  }
  return { total: keys.length, active, setAside, disabled };
}

/** Channel state for its badge: off, down (no usable key), degraded (some keys set aside), or ok. */
export function channelState(c: Channel): 'off' | 'down' | 'degraded' | 'ok' {
  if (!c.enabled) return 'off';
  const k = keySummary(c.keys);
  if (k.active === 0) return 'down';
  if (k.setAside > 0) return 'degraded';
  return 'ok';
}

/** Tone of a recent-health figure: ok from 95 % success, warn from 70 %, err below; '' with no recent attempts. */
export function healthTone(h: Pick<ChannelHealth, 'attempts' | 'success_rate'> | null | undefined): 'ok' | 'warn' | 'err' | '' {
  if (!h || h.attempts === 0 || h.success_rate === null) return '';
  if (h.success_rate >= 0.95) return 'ok';
  return h.success_rate >= 0.7 ? 'warn' : 'err';
}

/** Every model a channel offers: manual ones first, then synced ones not already listed. */
export function allModels(c: Pick<Channel, 'models' | 'synced_models'>): string[] {
  const seen = new Set(c.models);
  return [...c.models, ...c.synced_models.filter((m) => !seen.has(m))];
}
