// The routing-rule editor's state and its mapping to the API body.
import type { RouteMatch, RouteProtocol, RoutingRule, RoutingRuleInput } from './api/types';
import { fieldText, optionalNumber } from './format';

/** A boolean condition: '' = any, 'yes' / 'no'. */
export type TriState = '' | 'yes' | 'no';
export const TRI_STATES: TriState[] = ['', 'yes', 'no'];
export const BOOL_CONDITIONS = ['has_images', 'has_tools', 'thinking'] as const;
export type BoolCondition = (typeof BOOL_CONDITIONS)[number];

export interface RouteForm {
  name: string;
  priority: string | number | null;
  group: string;
  model: string;
  protocol: RouteProtocol | '';
  minInputTokens: string | number | null;
  bools: Record<BoolCondition, TriState>;
  /** One `Header-Name: pattern` per line. */
  headers: string;
}

const tri = (v: boolean | undefined): TriState => (v === undefined ? '' : v ? 'yes' : 'no');

export function routeToForm(r?: RoutingRule | null, groups: string[] = []): RouteForm {
  const m = r?.match ?? {};
  return {
    name: r?.name ?? '',
    priority: r ? String(r.priority) : '0',
    group: r?.group ?? groups[0] ?? '',
    model: m.model ?? '',
    protocol: m.protocol ?? '',
    minInputTokens: m.min_input_tokens != null ? String(m.min_input_tokens) : '',
    bools: { has_images: tri(m.has_images), has_tools: tri(m.has_tools), thinking: tri(m.thinking) },
    headers: Object.entries(m.header ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
  };
}

export type RouteErrors = Partial<Record<'name' | 'priority' | 'group' | 'minInputTokens' | 'headers', string>>;

export function routeFormToInput(form: RouteForm): { input: RoutingRuleInput; errors: RouteErrors } {
  const errors: RouteErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'routes.err.name';
  const priorityText = fieldText(form.priority);
  const priority = priorityText ? optionalNumber(priorityText) : 0;
  if (priority === null || priority < 0 || !Number.isInteger(priority)) errors.priority = 'routes.err.priority';
  if (!form.group) errors.group = 'routes.err.group';

  const match: RouteMatch = {};
  if (form.model.trim()) match.model = form.model.trim();
  if (form.protocol) match.protocol = form.protocol;
  const tokensText = fieldText(form.minInputTokens);
  if (tokensText) {
    const n = optionalNumber(tokensText);
    if (n === null || n < 0 || !Number.isInteger(n)) errors.minInputTokens = 'routes.err.tokens';
    else match.min_input_tokens = n;
  }
  for (const k of BOOL_CONDITIONS) if (form.bools[k]) match[k] = form.bools[k] === 'yes';
  const header: Record<string, string> = {};
  for (const raw of form.headers.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!key || !value) errors.headers = 'routes.err.header';
    else header[key] = value;
  }
  if (Object.keys(header).length > 0) match.header = header;

  return { input: { name, priority: priority ?? 0, group: form.group, match }, errors };
}

/** A short reading of a rule's conditions for the list, e.g. `model claude-haiku-* · tools · ≥ 60000 tokens`. */
export function describeMatch(m: RouteMatch, label: (key: string, n?: number) => string): string[] {
  const parts: string[] = [];
  if (m.model) parts.push(label('routes.cond.model') + ' ' + m.model);
  if (m.protocol) parts.push(m.protocol);
  if (m.min_input_tokens != null) parts.push(label('routes.cond.tokens', m.min_input_tokens));
  for (const k of BOOL_CONDITIONS) if (m[k] !== undefined) parts.push((m[k] ? '' : '¬') + label('routes.cond.' + k));
  for (const [k, v] of Object.entries(m.header ?? {})) parts.push(`${k}: ${v}`);
  return parts;
}
