// API key editor state, budget periods and spend lookup.
import type { ApiKey, ApiKeyInput, BudgetPeriod, RateLimits, TopRow } from './api/types';
import { fieldText, fromLocalInput, optionalNumber, toLocalInput } from './format';

export interface ApiKeyForm {
  name: string;
  enabled: boolean;
  expiresAt: string;
  allowedGroups: string[];
  // Bound to number inputs: a number, null, or the initial string.
  budget: string | number | null;
  budgetPeriod: BudgetPeriod;
  rpm: string | number | null;
  tpm: string | number | null;
  maxConcurrency: string | number | null;
  /** Limits for one group each, on top of the key-wide ones. */
  groupLimits: GroupLimitRow[];
}

export interface GroupLimitRow {
  group: string;
  rpm: string | number | null;
  tpm: string | number | null;
  maxConcurrency: string | number | null;
}

export function emptyGroupLimit(group = ''): GroupLimitRow {
  return { group, rpm: '', tpm: '', maxConcurrency: '' };
}

export function apiKeyToForm(k?: ApiKey | null): ApiKeyForm {
  const s = (v: number | null | undefined) => (v == null ? '' : String(v));
  return {
    name: k?.name ?? '',
    enabled: k?.enabled ?? true,
    expiresAt: toLocalInput(k?.expires_at),
    allowedGroups: [...(k?.allowed_groups ?? [])],
    budget: s(k?.budget),
    budgetPeriod: k?.budget_period ?? 'total',
    rpm: s(k?.rpm),
    tpm: s(k?.tpm),
    maxConcurrency: s(k?.max_concurrency),
    groupLimits: Object.entries(k?.group_limits ?? {}).map(([group, l]) => ({
      group,
      rpm: s(l.rpm),
      tpm: s(l.tpm),
      maxConcurrency: s(l.max_concurrency),
    })),
  };
}

export type ApiKeyErrors = Partial<Record<'name' | 'budget' | 'limits' | 'groupLimits' | 'expiresAt', string>>;

/** A limit field: null when empty, NaN when not a whole number of 1 or more. */
function limitValue(v: string | number | null): number | null {
  const text = fieldText(v);
  if (!text) return null;
  const n = optionalNumber(text);
  return n === null || n < 1 || !Number.isInteger(n) ? NaN : n;
}

export function apiKeyFormToInput(form: ApiKeyForm, now = Date.now()): { input: ApiKeyInput; errors: ApiKeyErrors } {
  const errors: ApiKeyErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'keys.err.name';
  const budgetText = fieldText(form.budget);
  const budget = optionalNumber(budgetText);
  if (budgetText && (budget === null || budget < 0)) errors.budget = 'keys.err.budget';
  const limitTexts = [form.rpm, form.tpm, form.maxConcurrency].map(fieldText);
  const limits = limitTexts.map((v) => optionalNumber(v));
  if (limitTexts.some((v, i) => v && (limits[i] === null || limits[i]! < 1 || !Number.isInteger(limits[i]))))
    errors.limits = 'keys.err.limits';
  const groupLimits: Record<string, RateLimits> = {};
  for (const row of form.groupLimits) {
    const group = row.group.trim();
    const l = { rpm: limitValue(row.rpm), tpm: limitValue(row.tpm), max_concurrency: limitValue(row.maxConcurrency) };
    if ([l.rpm, l.tpm, l.max_concurrency].some((v) => Number.isNaN(v))) errors.limits = 'keys.err.limits';
    else if (!group && (l.rpm ?? l.tpm ?? l.max_concurrency) !== null) errors.groupLimits = 'keys.err.groupLimitGroup';
    else if (group && group in groupLimits) errors.groupLimits = 'keys.err.groupLimitTwice';
    else if (group && (l.rpm ?? l.tpm ?? l.max_concurrency) !== null) groupLimits[group] = l;
  }
  const expires = fromLocalInput(form.expiresAt);
  if (form.expiresAt && !expires) errors.expiresAt = 'keys.err.expiry';
  return {
    input: {
      name,
      enabled: form.enabled,
      expires_at: expires,
      allowed_groups: form.allowedGroups,
      budget,
      budget_period: form.budgetPeriod,
      rpm: limits[0],
      tpm: limits[1],
      max_concurrency: limits[2],
      group_limits: groupLimits,
    },
    errors,
  };
}

/** Start of the current budget period in local time (weeks start on Monday); `total` counts from the epoch. */
export function periodStart(period: BudgetPeriod, now = new Date()): Date {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  switch (period) {
    case 'daily':
      return d;
    case 'weekly': {
      const back = (d.getDay() + 6) % 7;
      d.setDate(d.getDate() - back);
      return d;
    }
    case 'monthly':
      d.setDate(1);
      return d;
    default:
      return new Date(0);
  }
}

export function isExpired(k: Pick<ApiKey, 'expires_at'>, now = Date.now()): boolean {
  return !!k.expires_at && Date.parse(k.expires_at) <= now;
}

/** Finds a key's row in a stats/top?by=api_key answer (the key column is the key id). */
export function spendFor(k: Pick<ApiKey, 'id' | 'name'>, rows: TopRow[]): number {
  const row = rows.find((r) => r.key === String(k.id)) ?? rows.find((r) => r.name === k.name);
  return row?.cost ?? 0;
}
