// Typed client for the Admin API. One `request` does auth, JSON and error mapping; the resource methods below
// only name paths and types, so they read like the API plan.
import type {
  ApiKey,
  ApiKeyCreated,
  ApiKeyInput,
  Channel,
  ChannelHealth,
  ChannelInput,
  ChannelTestReply,
  ChannelType,
  FromChannelReply,
  Group,
  GroupInput,
  RoutingRule,
  RoutingRuleInput,
  LogDetail,
  LogPage,
  LogQuery,
  LoginReply,
  Me,
  Price,
  PriceSyncReply,
  PriceValues,
  SelfView,
  SeriesPoint,
  Settings,
  StatsSummary,
  StatsTotal,
  SyncModelsReply,
  TopBy,
  TopRow,
} from './types';

/** A failed call: the gateway's `{"error":{code,message}}`, or a synthetic code for transport failures. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  /** The current bearer token, or null when signed out. */
  token: () => string | null;
  /** Called on 401 and on 403 password_change_required, before the error is thrown. */
  onAuthError?: (error: ApiError) => void;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? '?' + s : '';
}

async function toError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const text = await res.text();
    if (text) {
      try {
        const body = JSON.parse(text);
        const e = body?.error;
        if (e && typeof e === 'object') {
          if (typeof e.code === 'string') code = e.code;
          if (typeof e.message === 'string') message = e.message;
        } else if (typeof e === 'string') {
          message = e;
        }
      } catch {
        message = text.slice(0, 300);
      }
    }
  } catch {
    // body unreadable: keep the status line
  }
  return new ApiError(res.status, code, message);
}

export function createClient(options: ClientOptions) {
  const base = (options.baseUrl ?? '').replace(/\/$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send(method: string, path: string, body?: unknown, query?: Query, raw = false): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = options.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = raw ? (body as string) : JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await doFetch(base + path + buildQuery(query), { method, headers, body: payload });
    } catch (e) {
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    }
    if (!res.ok) {
      const err = await toError(res);
      if (err.status === 401 || (err.status === 403 && err.code === 'password_change_required')) {
        options.onAuthError?.(err);
      }
      throw err;
    }
    return res;
  }

  async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const res = await send(method, path, body, query);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const get = <T>(path: string, query?: Query) => request<T>('GET', path, undefined, query);
  const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
  const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
  const del = <T = void>(path: string) => request<T>('DELETE', path);
  const id = (v: number | string) => encodeURIComponent(String(v));
  // Model names may hold "/" (openrouter/...): the gateway's {**model} route takes it literally and would keep an
  // encoded %2F as part of the name, so each segment is encoded on its own.
  const modelPath = (model: string) => model.split('/').map(encodeURIComponent).join('/');

  return {
    auth: {
      login: (username: string, password: string) => post<LoginReply>('/api/v1/auth/login', { username, password }),
      changePassword: (old_password: string, new_password: string) =>
        post<LoginReply>('/api/v1/auth/password', { old_password, new_password }),
      me: () => get<Me>('/api/v1/auth/me'),
    },
    channels: {
      list: () => get<Channel[]>('/api/v1/channels'),
      get: (channelId: number) => get<Channel>(`/api/v1/channels/${id(channelId)}`),
      create: (input: ChannelInput) => post<Channel>('/api/v1/channels', input),
      update: (channelId: number, input: Partial<ChannelInput>) => put<Channel>(`/api/v1/channels/${id(channelId)}`, input),
      remove: (channelId: number) => del(`/api/v1/channels/${id(channelId)}`),
      test: (channelId: number, model?: string) =>
        post<ChannelTestReply>(`/api/v1/channels/${id(channelId)}/test`, model ? { model } : {}),
      health: (channelId: number) => get<ChannelHealth>(`/api/v1/channels/${id(channelId)}/health`),
      syncModels: (channelId: number) => post<SyncModelsReply>(`/api/v1/channels/${id(channelId)}/sync-models`),
      fetchModels: (type: ChannelType, base_url: string, key: string) =>
        post<{ models: string[] }>('/api/v1/channels/fetch-models', { type, base_url, key }),
      revealKey: (channelId: number, keyId: number) =>
        get<{ key: string }>(`/api/v1/channels/${id(channelId)}/keys/${id(keyId)}/reveal`),
      resetKey: (channelId: number, keyId: number) =>
        post<unknown>(`/api/v1/channels/${id(channelId)}/keys/${id(keyId)}/reset`),
    },
    groups: {
      list: () => get<Group[]>('/api/v1/groups'),
      get: (groupId: number) => get<Group>(`/api/v1/groups/${id(groupId)}`),
      create: (input: GroupInput) => post<Group>('/api/v1/groups', input),
      update: (groupId: number, input: Partial<GroupInput>) => put<Group>(`/api/v1/groups/${id(groupId)}`, input),
      remove: (groupId: number) => del(`/api/v1/groups/${id(groupId)}`),
      reorder: (groupId: number, member_ids: number[]) =>
        post<Group>(`/api/v1/groups/${id(groupId)}/members/reorder`, { member_ids }),
      fromChannel: (channel_id: number, models?: string[]) =>
        post<FromChannelReply>('/api/v1/groups/from-channel', models ? { channel_id, models } : { channel_id }),
    },
    routes: {
      list: () => get<RoutingRule[]>('/api/v1/routes'),
      create: (input: RoutingRuleInput) => post<RoutingRule>('/api/v1/routes', input),
      update: (routeId: number, input: Partial<RoutingRuleInput>) => put<RoutingRule>(`/api/v1/routes/${id(routeId)}`, input),
      remove: (routeId: number) => del(`/api/v1/routes/${id(routeId)}`),
    },
    /** With a client API key as the token: that key's own usage, budget and limits. */
    self: () => get<SelfView>('/api/v1/self'),
    apiKeys: {
      list: () => get<ApiKey[]>('/api/v1/api-keys'),
      create: (input: ApiKeyInput) => post<ApiKeyCreated>('/api/v1/api-keys', input),
      update: (keyId: number, input: Partial<ApiKeyInput>) => put<ApiKey>(`/api/v1/api-keys/${id(keyId)}`, input),
      remove: (keyId: number) => del(`/api/v1/api-keys/${id(keyId)}`),
    },
    prices: {
      list: () => get<Price[]>('/api/v1/prices'),
      update: (model: string, values: PriceValues) => put<Price>(`/api/v1/prices/${modelPath(model)}`, values),
      reset: (model: string) => del(`/api/v1/prices/${modelPath(model)}`),
      sync: () => post<PriceSyncReply>('/api/v1/prices/sync'),
      missing: () => get<string[]>('/api/v1/prices/missing'),
    },
    settings: {
      get: () => get<Settings>('/api/v1/settings'),
      update: (patch: Partial<Settings>) => put<Settings>('/api/v1/settings', patch),
    },
    logs: {
      list: (query: LogQuery = {}) => get<LogPage>('/api/v1/logs', query as Query),
      get: (logId: number | string) => get<LogDetail>(`/api/v1/logs/${id(logId)}`),
    },
    stats: {
      total: () => get<StatsTotal>('/api/v1/stats/total'),
      summary: (from: string, to: string) => get<StatsSummary>('/api/v1/stats/summary', { from, to }),
      series: (from: string, to: string, interval: 'hour' | 'day') =>
        get<{ points: SeriesPoint[] }>('/api/v1/stats/series', { from, to, interval }),
      top: (by: TopBy, from: string, to: string, limit = 5) =>
        get<TopRow[]>('/api/v1/stats/top', { by, from, to, limit }),
    },
    backup: {
      /** The backup file as a Blob plus the name the gateway suggests. */
      export: async (includeKeys: boolean): Promise<{ blob: Blob; filename: string }> => {
        const res = await send('GET', '/api/v1/backup', undefined, { include_keys: includeKeys });
        const cd = res.headers.get('Content-Disposition') ?? '';
        const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
        const filename = m ? decodeURIComponent(m[1]) : `octopus-backup-${new Date().toISOString().slice(0, 10)}.json`;
        return { blob: await res.blob(), filename };
      },
      /** Imports a backup file's text as-is (it is already the JSON the gateway exported). */
      import: async (json: string): Promise<unknown> => {
        const res = await send('POST', '/api/v1/backup', json, undefined, true);
        const text = await res.text();
        return text ? JSON.parse(text) : undefined;
      },
    },
  };
}

export type Api = ReturnType<typeof createClient>;
