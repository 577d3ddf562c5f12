import { describe, expect, it } from 'vitest';
import { describeMatch, routeFormToInput, routeToForm } from './routeForm';
import type { RoutingRule } from './api/types';

const rule: RoutingRule = {
  id: 4,
  name: 'haiku',
  priority: 10,
  match: { model: 'claude-haiku-*', protocol: 'anthropic', min_input_tokens: 60000, has_tools: true, thinking: false, header: { 'X-Team': 're:^ml$' } },
  group: 'cheap',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

describe('route form', () => {
  it('round-trips a rule with every condition', () => {
    const form = routeToForm(rule, ['cheap', 'long']);
    expect(form.bools).toEqual({ has_images: '', has_tools: 'yes', thinking: 'no' });
    expect(form.headers).toBe('X-Team: re:^ml$');
    const { input, errors } = routeFormToInput(form);
    expect(errors).toEqual({});
    expect(input).toEqual({ name: 'haiku', priority: 10, group: 'cheap', match: rule.match });
  });

  it('sends only the conditions that are set and defaults to the first group', () => {
    const form = routeToForm(null, ['cheap', 'long']);
    form.name = ' all ';
    const { input, errors } = routeFormToInput(form);
    expect(errors).toEqual({});
    expect(input).toEqual({ name: 'all', priority: 0, group: 'cheap', match: {} });
  });

  it('names bad fields', () => {
    const form = routeToForm(null, []);
    form.priority = '-1';
    form.minInputTokens = '1.5';
    form.headers = 'no colon here';
    expect(routeFormToInput(form).errors).toEqual({
      name: 'routes.err.name',
      priority: 'routes.err.priority',
      group: 'routes.err.group',
      minInputTokens: 'routes.err.tokens',
      headers: 'routes.err.header',
    });
  });

  it('describes a match for the list', () => {
    const label = (k: string, n?: number) => (n != null ? `${k}(${n})` : k);
    expect(describeMatch(rule.match, label)).toEqual([
      'routes.cond.model claude-haiku-*',
      'anthropic',
      'routes.cond.tokens(60000)',
      'routes.cond.has_tools',
      '¬routes.cond.thinking',
      'X-Team: re:^ml$',
    ]);
  });
});
