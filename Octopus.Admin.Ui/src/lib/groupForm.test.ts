import { describe, expect, it } from 'vitest';
import type { Group } from './api/types';
import { groupFormToInput, groupToForm, moveMember, pinMember } from './groupForm';

const group: Group = {
  id: 1,
  name: 'gpt-4o',
  mode: 'failover',
  members: [
    { id: 11, channel_id: 2, channel_name: 'b', model: 'gpt-4o-2024', priority: 5, weight: 1, pinned: false },
    { id: 10, channel_id: 1, channel_name: 'a', model: 'gpt-4o', priority: 1, weight: 3, pinned: false },
  ],
  settings: {
    attempts_per_member: 2,
    retry_interval_ms: null,
    first_event_timeout_seconds: null,
    response_timeout_seconds: null,
    stream_idle_timeout_seconds: 45,
    cooldown_seconds: null,
    affinity_seconds: null,
  },
  aliases: ['gpt-4o-*'],
  visible: true,
  created_at: '',
  updated_at: '',
};

describe('group form', () => {
  it('lists members by priority and sends their position as priority', () => {
    const form = groupToForm(group);
    expect(form.members.map((m) => m.id)).toEqual([10, 11]);
    const { input, errors } = groupFormToInput(form);
    expect(errors).toEqual({});
    expect(input.members).toEqual([
      { id: 10, channel_id: 1, model: 'gpt-4o', priority: 0, weight: 3, pinned: false },
      { id: 11, channel_id: 2, model: 'gpt-4o-2024', priority: 1, weight: 1, pinned: false },
    ]);
    expect(input.settings.attempts_per_member).toBe(2);
    expect(input.settings.cooldown_seconds).toBeNull();
    expect(input.aliases).toEqual(['gpt-4o-*']);
  });

  it('keeps the stream idle timeout when a group is saved again', () => {
    const { input } = groupFormToInput(groupToForm(group));
    expect(input.settings.stream_idle_timeout_seconds).toBe(45);
  });

  it('reorders by drag and drop', () => {
    const form = groupToForm(group);
    moveMember(form, 1, 0);
    expect(groupFormToInput(form).input.members.map((m) => [m.id, m.priority])).toEqual([
      [11, 0],
      [10, 1],
    ]);
  });

  it('needs one pinned member in manual mode and pins only one', () => {
    const form = groupToForm(group);
    form.mode = 'manual';
    expect(groupFormToInput(form).errors.members).toBe('groups.err.pinned');
    pinMember(form, 1);
    pinMember(form, 0);
    const { input, errors } = groupFormToInput(form);
    expect(errors.members).toBeUndefined();
    expect(input.members.map((m) => m.pinned)).toEqual([true, false]);
  });

  it('drops pins outside manual mode', () => {
    const form = groupToForm(group);
    form.members[0].pinned = true;
    expect(groupFormToInput(form).input.members.every((m) => !m.pinned)).toBe(true);
  });

  it('rejects empty names, incomplete members and bad settings', () => {
    const form = groupToForm(null);
    form.members.push({ key: 'x', channelId: null, model: '', weight: 1, pinned: false });
    form.settings.cooldown_seconds = '-1';
    expect(groupFormToInput(form).errors).toEqual({
      name: 'groups.err.name',
      members: 'groups.err.member',
      settings: 'groups.err.settings',
    });
    form.name = 'has space';
    expect(groupFormToInput(form).errors.name).toBe('groups.err.nameSpaces');
  });
});

describe('group settings from number inputs', () => {
  it('takes numbers and treats null as the default', () => {
    const form = groupToForm(group);
    form.settings.cooldown_seconds = 90;
    form.settings.attempts_per_member = null;
    const { input, errors } = groupFormToInput(form);
    expect(errors).toEqual({});
    expect(input.settings.cooldown_seconds).toBe(90);
    expect(input.settings.attempts_per_member).toBeNull();
  });
});
