import { describe, expect, it } from 'vitest';
import { apiKeyFormToInput, apiKeyToForm, emptyGroupLimit, isExpired, periodStart, spendFor } from './apiKeyForm';

describe('api key form', () => {
  it('builds the body with nulls for unlimited values', () => {
    const form = apiKeyToForm(null);
    form.name = ' ci ';
    form.allowedGroups = ['gpt-4o'];
    form.budget = '25';
    form.budgetPeriod = 'monthly';
    form.rpm = '60';
    const { input, errors } = apiKeyFormToInput(form);
    expect(errors).toEqual({});
    expect(input).toEqual({
      name: 'ci',
      enabled: true,
      expires_at: null,
      allowed_groups: ['gpt-4o'],
      budget: 25,
      budget_period: 'monthly',
      rpm: 60,
      tpm: null,
      max_concurrency: null,
      group_limits: {},
    });
  });

  it('reads and writes per-group limits, dropping empty rows', () => {
    const form = apiKeyToForm({
      id: 1,
      name: 'team',
      key_hint: 'sk-oc-ab…yz',
      enabled: true,
      expires_at: null,
      allowed_groups: [],
      budget: null,
      budget_period: 'total',
      rpm: 100,
      tpm: null,
      max_concurrency: null,
      group_limits: { 'gpt-4o': { rpm: 10, tpm: null, max_concurrency: 2 } },
      created_at: '',
      updated_at: '',
    });
    expect(form.groupLimits).toEqual([{ group: 'gpt-4o', rpm: '10', tpm: '', maxConcurrency: '2' }]);
    form.groupLimits.push(emptyGroupLimit('claude'), emptyGroupLimit());
    form.groupLimits[1].tpm = 5000;
    const { input, errors } = apiKeyFormToInput(form);
    expect(errors).toEqual({});
    expect(input.group_limits).toEqual({
      'gpt-4o': { rpm: 10, tpm: null, max_concurrency: 2 },
      claude: { rpm: null, tpm: 5000, max_concurrency: null },
    });
  });

  it('rejects a group limit without a group, a group named twice and a bad value', () => {
    const form = apiKeyToForm(null);
    form.name = 'x';
    form.groupLimits = [{ group: '', rpm: '5', tpm: '', maxConcurrency: '' }];
    expect(apiKeyFormToInput(form).errors).toEqual({ groupLimits: 'keys.err.groupLimitGroup' });
    form.groupLimits = [emptyGroupLimit('g'), emptyGroupLimit('g')].map((r) => ({ ...r, rpm: 1 }));
    expect(apiKeyFormToInput(form).errors).toEqual({ groupLimits: 'keys.err.groupLimitTwice' });
    form.groupLimits = [{ group: 'g', rpm: '0', tpm: '', maxConcurrency: '' }];
    expect(apiKeyFormToInput(form).errors).toEqual({ limits: 'keys.err.limits' });
  });

  it('rejects a negative budget and fractional limits', () => {
    const form = apiKeyToForm(null);
    form.name = 'x';
    form.budget = '-1';
    form.tpm = '1.5';
    expect(apiKeyFormToInput(form).errors).toEqual({ budget: 'keys.err.budget', limits: 'keys.err.limits' });
  });

  it('starts budget periods at local midnight, Monday, the 1st, or the epoch', () => {
    const now = new Date(2026, 4, 14, 15, 30); // Thursday 14 May 2026
    expect(periodStart('daily', now)).toEqual(new Date(2026, 4, 14));
    expect(periodStart('weekly', now)).toEqual(new Date(2026, 4, 11));
    expect(periodStart('monthly', now)).toEqual(new Date(2026, 4, 1));
    expect(periodStart('total', now).getTime()).toBe(0);
    expect(periodStart('weekly', new Date(2026, 4, 17, 9))).toEqual(new Date(2026, 4, 11)); // a Sunday
  });

  it('finds spend by key id, falling back to the name', () => {
    const rows = [
      { key: '3', name: 'ci', requests: 1, failed: 0, input_tokens: 0, output_tokens: 0, cost: 1.5, cache_hit_rate: 0 },
      { key: 'x', name: 'other', requests: 1, failed: 0, input_tokens: 0, output_tokens: 0, cost: 2, cache_hit_rate: 0 },
    ];
    expect(spendFor({ id: 3, name: 'ci' }, rows)).toBe(1.5);
    expect(spendFor({ id: 9, name: 'other' }, rows)).toBe(2);
    expect(spendFor({ id: 10, name: 'none' }, rows)).toBe(0);
  });

  it('knows when a key has expired', () => {
    expect(isExpired({ expires_at: null })).toBe(false);
    expect(isExpired({ expires_at: '2000-01-01T00:00:00Z' })).toBe(true);
    expect(isExpired({ expires_at: '2999-01-01T00:00:00Z' })).toBe(false);
  });
});

describe('api key form with number inputs', () => {
  it('accepts the numbers and nulls that bind:value gives number inputs', () => {
    const form = apiKeyToForm(null);
    form.name = 'n';
    form.budget = 12.5;
    form.rpm = null;
    form.tpm = 1000;
    const { input, errors } = apiKeyFormToInput(form);
    expect(errors).toEqual({});
    expect(input).toMatchObject({ budget: 12.5, rpm: null, tpm: 1000 });
  });
});
