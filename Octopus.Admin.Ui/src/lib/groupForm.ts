// The group editor's state and its mapping to the API body.
import type { Group, GroupInput, GroupMember, GroupMode, GroupSettings } from './api/types';
import { fieldText, moveItem, optionalNumber, parseLines } from './format';

export const SETTING_DEFAULTS: Record<keyof GroupSettings, number> = {
  attempts_per_member: 1,
  retry_interval_ms: 0,
  first_event_timeout_seconds: 120,
  response_timeout_seconds: 600,
  stream_idle_timeout_seconds: 300,
  cooldown_seconds: 30,
  affinity_seconds: 3600,
};
export const SETTING_KEYS = Object.keys(SETTING_DEFAULTS) as (keyof GroupSettings)[];

export interface MemberRow {
  /** Stable key for the keyed list (drag and drop); the server id when the member exists. */
  key: string;
  id?: number;
  channelId: number | null;
  model: string;
  weight: number;
  pinned: boolean;
}

export interface GroupForm {
  name: string;
  mode: GroupMode;
  visible: boolean;
  aliases: string;
  members: MemberRow[];
  /** Bound to number inputs: a number, null (empty) or the initial string. */
  settings: Record<keyof GroupSettings, string | number | null>;
}

let nextKey = 1;
export function newMemberKey(): string {
  return 'new-' + nextKey++;
}

export function groupToForm(g?: Group | null): GroupForm {
  const members = [...(g?.members ?? [])].sort((a, b) => a.priority - b.priority);
  const settings = {} as Record<keyof GroupSettings, string | number | null>;
  for (const k of SETTING_KEYS) settings[k] = g?.settings?.[k] != null ? String(g.settings[k]) : '';
  return {
    name: g?.name ?? '',
    mode: g?.mode ?? 'round_robin',
    visible: g?.visible ?? true,
    aliases: (g?.aliases ?? []).join('\n'),
    members: members.map((m) => ({
      key: m.id != null ? 'm' + m.id : newMemberKey(),
      id: m.id,
      channelId: m.channel_id,
      model: m.model,
      weight: m.weight ?? 1,
      pinned: !!m.pinned,
    })),
    settings,
  };
}

export type GroupErrors = Partial<Record<'name' | 'members' | 'settings', string>>;

/** Members are sent in list order; priority is the position (lower goes first in failover). */
export function groupFormToInput(form: GroupForm): { input: GroupInput; errors: GroupErrors } {
  const errors: GroupErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'groups.err.name';
  else if (/\s/.test(name)) errors.name = 'groups.err.nameSpaces';

  const members: GroupMember[] = form.members.map((m, i) => ({
    ...(m.id != null ? { id: m.id } : {}),
    channel_id: m.channelId ?? 0,
    model: m.model.trim(),
    priority: i,
    weight: Math.max(1, Math.round(Number(m.weight) || 1)),
    pinned: form.mode === 'manual' ? m.pinned : false,
  }));
  if (members.some((m) => !m.channel_id || !m.model)) errors.members = 'groups.err.member';
  if (form.mode === 'manual' && members.length > 0 && !members.some((m) => m.pinned)) errors.members = 'groups.err.pinned';

  const settings = {} as GroupSettings;
  for (const k of SETTING_KEYS) {
    const raw = fieldText(form.settings[k]);
    const n = optionalNumber(raw);
    if (raw && (n === null || n < 0 || !Number.isInteger(n))) errors.settings = 'groups.err.settings';
    settings[k] = n;
  }

  return {
    input: { name, mode: form.mode, visible: form.visible, aliases: parseLines(form.aliases), members, settings },
    errors,
  };
}

export function moveMember(form: GroupForm, from: number, to: number): void {
  form.members = moveItem(form.members, from, to);
}

/** Only one member can be pinned (manual mode). */
export function pinMember(form: GroupForm, index: number): void {
  form.members = form.members.map((m, i) => ({ ...m, pinned: i === index }));
}
