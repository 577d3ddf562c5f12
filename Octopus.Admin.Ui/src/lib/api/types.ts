// Wire types of the Admin API (/api/v1), snake_case as the gateway speaks them. Times are RFC 3339 strings.

export interface ErrorBody {
  error: { code: string; message: string };
}

// ---- auth
export interface LoginReply {
  token: string;
  expires_at: string;
  must_change_password: boolean;
}
export interface Me {
  username: string;
  must_change_password: boolean;
}

// ---- channels
export const CHANNEL_TYPES = ['openai', 'openai_responses', 'anthropic', 'gemini', 'volcengine'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const PROBE_POLICIES = ['off', 'passive', 'set_aside_only', 'active'] as const;
export type ProbePolicy = (typeof PROBE_POLICIES)[number];

export interface ChannelKey {
  id: number;
  key: string;
  enabled: boolean;
  status: 'active' | 'set_aside';
  status_reason: string | null;
  status_at: string | null;
  remark: string | null;
}
/** A further protocol of a multi-protocol channel: a channel type and its base URLs (the keys are the channel's). */
export interface ChannelEndpoint {
  type: ChannelType;
  base_urls: string[];
}
export interface Channel {
  id: number;
  name: string;
  type: ChannelType;
  enabled: boolean;
  base_urls: string[];
  /** Absent in replies of older servers. */
  endpoints?: ChannelEndpoint[];
  keys: ChannelKey[];
  models: string[];
  synced_models: string[];
  auto_sync: boolean;
  model_filter: string | null;
  headers: Record<string, string>;
  proxy: string | null;
  param_override: Record<string, unknown> | null;
  probe_policy: ProbePolicy;
  add_cache_breakpoints: boolean;
  created_at: string;
  updated_at: string;
  /** Recent attempts through the channel and its keys, as this gateway process saw them (read-only). */
  health?: ChannelHealth;
}
export interface HealthError {
  at: string;
  status: number;
  /** Scrubbed of secrets by the gateway. */
  message: string;
}
/** The last `window` attempts of a channel (or, in `keys`, of one key, with its `id`). */
export interface ChannelHealth {
  id?: number;
  window: number;
  attempts: number;
  succeeded: number;
  success_rate: number | null;
  avg_latency_ms: number | null;
  since: string | null;
  last_at: string | null;
  last_error: HealthError | null;
  keys?: ChannelHealth[];
}
/** PUT keys: a string adds a new secret; an object keeps an existing key (optionally changing it). */
export type ChannelKeyEdit = string | { id: number; enabled?: boolean; remark?: string | null };
export interface ChannelInput {
  name: string;
  type: ChannelType;
  enabled: boolean;
  base_urls: string[];
  endpoints: ChannelEndpoint[];
  keys: ChannelKeyEdit[];
  models: string[];
  auto_sync: boolean;
  model_filter: string | null;
  headers: Record<string, string>;
  proxy: string | null;
  param_override: Record<string, unknown> | null;
  probe_policy: ProbePolicy;
  add_cache_breakpoints: boolean;
}
export interface ChannelTestReply {
  ok: boolean;
  status: number;
  latency_ms: number;
  model: string;
  error?: string | null;
}
export interface SyncModelsReply {
  models: string[];
  added: string[];
  removed: string[];
}

// ---- groups
export const GROUP_MODES = ['round_robin', 'random', 'failover', 'weighted', 'manual'] as const;
export type GroupMode = (typeof GROUP_MODES)[number];
export interface GroupMember {
  id?: number;
  channel_id: number;
  channel_name?: string;
  model: string;
  priority: number;
  weight: number;
  pinned: boolean;
}
export interface GroupSettings {
  attempts_per_member: number | null;
  retry_interval_ms: number | null;
  first_event_timeout_seconds: number | null;
  response_timeout_seconds: number | null;
  stream_idle_timeout_seconds: number | null;
  cooldown_seconds: number | null;
  affinity_seconds: number | null;
}
export interface Group {
  id: number;
  name: string;
  mode: GroupMode;
  members: GroupMember[];
  settings: GroupSettings;
  aliases: string[];
  visible: boolean;
  created_at: string;
  updated_at: string;
}
export type GroupInput = Omit<Group, 'id' | 'created_at' | 'updated_at'>;
export interface FromChannelReply {
  created: Group[];
  skipped: string[];
}

// ---- routes (routing rules)
export const ROUTE_PROTOCOLS = ['openai_chat', 'openai_responses', 'anthropic', 'gemini'] as const;
export type RouteProtocol = (typeof ROUTE_PROTOCOLS)[number];
/** Conditions, all optional and ANDed; the gateway lists only the ones a rule sets. */
export interface RouteMatch {
  model?: string;
  protocol?: RouteProtocol;
  min_input_tokens?: number;
  has_images?: boolean;
  has_tools?: boolean;
  thinking?: boolean;
  header?: Record<string, string>;
}
export interface RoutingRule {
  id: number;
  name: string;
  priority: number;
  match: RouteMatch;
  /** Group name. */
  group: string;
  created_at: string;
  updated_at: string;
}
export type RoutingRuleInput = Omit<RoutingRule, 'id' | 'created_at' | 'updated_at'>;

// ---- API keys
export const BUDGET_PERIODS = ['total', 'daily', 'weekly', 'monthly'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
export interface ApiKey {
  id: number;
  name: string;
  key_hint: string;
  enabled: boolean;
  expires_at: string | null;
  allowed_groups: string[];
  budget: number | null;
  budget_period: BudgetPeriod;
  rpm: number | null;
  tpm: number | null;
  max_concurrency: number | null;
  /** Limits on this key's requests to one group, by group name (on top of the key-wide ones). */
  group_limits: Record<string, RateLimits>;
  created_at: string;
  updated_at: string;
  /** Spend in the current budget period, when the gateway reports it. */
  spent?: number | null;
}
export type ApiKeyInput = Pick<
  ApiKey,
  'name' | 'enabled' | 'expires_at' | 'allowed_groups' | 'budget' | 'budget_period' | 'rpm' | 'tpm' | 'max_concurrency' | 'group_limits'
>;
export interface RateLimits {
  rpm: number | null;
  tpm: number | null;
  max_concurrency: number | null;
}

// ---- key self-service (GET /api/v1/self, with a client key)
export interface SelfTotals {
  /** Start of the span; null for all time. */
  from: string | null;
  requests: number;
  succeeded: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}
/** Use of a limit window: requests and tokens in the last 60 s, requests in flight. */
export interface SelfWindow {
  requests: number;
  tokens: number;
  in_flight: number;
}
export interface SelfLimits extends RateLimits {
  window: SelfWindow;
}
export interface SelfView {
  name: string;
  key_hint: string;
  enabled: boolean;
  expires_at: string | null;
  allowed_groups: string[];
  budget: number | null;
  budget_period: BudgetPeriod;
  budget_used: number;
  budget_left: number | null;
  budget_resets_at: string | null;
  usage: { today: SelfTotals; period: SelfTotals; total: SelfTotals };
  limits: SelfLimits & { groups: Record<string, SelfLimits> };
}
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

// ---- prices (USD per million tokens)
export interface PriceValues {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  /** USD per generated image (not per million tokens); 0 = image requests are priced by their tokens. */
  image?: number;
}
export interface Price extends PriceValues {
  model: string;
  source: 'synced' | 'user';
  synced: PriceValues | null;
  updated_at: string;
}
export interface PriceSyncReply {
  updated: number;
  /** Only with 502, which the client throws as an ApiError. */
  error?: { code: string; message: string } | null;
}

// ---- settings
export const BODY_CAPTURE = ['off', 'errors', 'sampled', 'all'] as const;
export type BodyCapture = (typeof BODY_CAPTURE)[number];
export interface Settings {
  stats_save_interval: number;
  log_retention_days: number;
  body_capture: BodyCapture;
  body_sample_percent: number;
  body_max_bytes: number;
  body_retention_days: number;
  price_sync_interval_hours: number;
  price_source_url: string;
  model_sync_interval_hours: number;
  cors_allow_origins: string[];
  /** "" = direct (the setting is never null). */
  proxy: string;
  /** "" = failure notifications off. */
  notify_webhook_url: string;
  notify_webhook_format: 'generic' | 'feishu' | 'matrix';
  notify_interval_minutes: number;
  notify_max_per_hour: number;
}

// ---- logs
export interface LogEntry {
  /** Time-ordered, below 2^53: exact as a JavaScript number. */
  id: number;
  time: string;
  api_key_id: number | null;
  api_key_name: string | null;
  client_ip: string | null;
  requested_model: string | null;
  group_name: string | null;
  channel_id: number | null;
  channel_name: string | null;
  upstream_model: string | null;
  status: number;
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost: number;
  stream: boolean;
  protocol_in: string;
  protocol_out: string | null;
}
export interface LogAttempt {
  channel_id: number;
  channel_name: string;
  base_url: string;
  model: string;
  key_id: number;
  status: number;
  error: string | null;
  duration_ms: number;
}
export interface LogDetail extends LogEntry {
  attempts: LogAttempt[];
  body: { request: string | null; response: string | null } | null;
}
export interface LogPage {
  items: LogEntry[];
  /** The last item's id; pass it back as `cursor`. */
  next_cursor: number | null;
}
export interface LogQuery {
  from?: string;
  to?: string;
  group?: string;
  channel_id?: number | string;
  api_key_id?: number | string;
  /** `ok` (2xx/3xx), `error`, or an exact HTTP status such as `429`. */
  status?: string;
  cursor?: number;
  limit?: number;
}

// ---- stats
export interface StatsTotal {
  requests: number;
  succeeded: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}
export interface StatsSummary {
  requests: number;
  succeeded: number;
  failed: number;
  success_rate: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost: number;
  cache_hit_rate: number;
}
export interface SeriesPoint {
  t: string;
  requests: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}
export type TopBy = 'channel' | 'model' | 'api_key' | 'group';
export interface TopRow {
  /** Channel id, upstream model, API key id or group name; "0" / "" when the request reached none. */
  key: string;
  name: string;
  requests: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  cache_hit_rate: number;
}
