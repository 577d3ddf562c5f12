import { describe, expect, it } from 'vitest';
import type { Settings } from './api/types';
import { settingsPatch, settingsToForm } from './settingsForm';

const settings: Settings = {
  stats_save_interval: 5,
  log_retention_days: 30,
  body_capture: 'errors',
  body_sample_percent: 10,
  body_max_bytes: 65536,
  body_retention_days: 7,
  price_sync_interval_hours: 24,
  price_source_url: 'https://models.dev/api.json',
  model_sync_interval_hours: 12,
  cors_allow_origins: [],
  proxy: '',
  notify_webhook_url: '',
  notify_webhook_format: 'generic',
  notify_interval_minutes: 10,
  notify_max_per_hour: 20,
};

describe('settings form', () => {
  it('sends nothing when nothing changed', () => {
    expect(settingsPatch(settings, settingsToForm(settings))).toEqual({ patch: {}, invalid: null });
  });

  it('sends only the changed fields, typed', () => {
    const form = settingsToForm(settings);
    form.log_retention_days = '90';
    form.body_capture = 'all';
    form.cors_allow_origins = 'https://a.example\nhttps://b.example\n';
    form.proxy = ' http://127.0.0.1:7890 ';
    expect(settingsPatch(settings, form)).toEqual({
      patch: {
        log_retention_days: 90,
        body_capture: 'all',
        cors_allow_origins: ['https://a.example', 'https://b.example'],
        proxy: 'http://127.0.0.1:7890',
      },
      invalid: null,
    });
  });

  it('sends the failure webhook settings', () => {
    const form = settingsToForm(settings);
    form.notify_webhook_url = ' https://open.feishu.cn/open-apis/bot/v2/hook/x ';
    form.notify_webhook_format = 'feishu';
    form.notify_interval_minutes = '30';
    expect(settingsPatch(settings, form)).toEqual({
      patch: {
        notify_interval_minutes: 30,
        notify_webhook_url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x',
        notify_webhook_format: 'feishu',
      },
      invalid: null,
    });
  });

  it('clears the proxy with an empty string and names an invalid number', () => {
    const withProxy = { ...settings, proxy: 'http://p:1' };
    const form = settingsToForm(withProxy);
    form.proxy = '';
    expect(settingsPatch(withProxy, form).patch).toEqual({ proxy: '' });
    form.body_sample_percent = '150';
    expect(settingsPatch(withProxy, form).invalid).toBe('body_sample_percent');
    form.body_sample_percent = '';
    expect(settingsPatch(withProxy, form).invalid).toBe('body_sample_percent');
  });
});

describe('settings form with number inputs', () => {
  it('accepts numbers from bound number inputs and rejects an emptied one', () => {
    const form = settingsToForm(settings);
    form.log_retention_days = 14;
    expect(settingsPatch(settings, form)).toEqual({ patch: { log_retention_days: 14 }, invalid: null });
    form.body_max_bytes = null;
    expect(settingsPatch(settings, form).invalid).toBe('body_max_bytes');
  });
});
