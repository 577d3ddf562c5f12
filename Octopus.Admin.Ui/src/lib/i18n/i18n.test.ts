import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from './en';
import zh from './zh';
import { detectLocale, i18n, t } from './index.svelte';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if ((p.endsWith('.svelte') || p.endsWith('.ts')) && !p.endsWith('.test.ts') && !p.includes('/i18n/')) out.push(p);
  }
  return out;
}

const root = join(__dirname, '..', '..');
const code = sources(root).map((p) => readFileSync(p, 'utf8')).join('\n');
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('messages', () => {
  it('has the same keys in English and Chinese', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it('uses the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect([key, placeholders(zh[key])]).toEqual([key, placeholders(en[key])]);
    }
  });

  it('defines every literal key the pages use', () => {
    const used = new Set<string>();
    for (const m of code.matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) if (!m[1].endsWith('.')) used.add(m[1]);
    for (const m of code.matchAll(/'((?:nav|channels|groups|keys|prices|settings|logs|dash|password|common|start)\.[a-zA-Z0-9_.]+)'/g)) {
      if (!m[1].endsWith('.')) used.add(m[1]);
    }
    const missing = [...used].filter((k) => !(k in en));
    expect(missing).toEqual([]);
  });

  it('has keys under every dynamic prefix the pages build', () => {
    const prefixes = new Set<string>();
    for (const m of code.matchAll(/\bt\('([a-zA-Z0-9_.]+\.)' \+/g)) prefixes.add(m[1]);
    expect(prefixes.size).toBeGreaterThan(5);
    for (const p of prefixes) expect([p, Object.keys(en).some((k) => k.startsWith(p))]).toEqual([p, true]);
  });
});

describe('translation', () => {
  it('picks Chinese for any zh browser language, English otherwise', () => {
    expect(detectLocale(['zh-CN', 'en'])).toBe('zh');
    expect(detectLocale(['zh-TW'])).toBe('zh');
    expect(detectLocale(['fr-FR', 'en-US'])).toBe('en');
    expect(detectLocale(['de'])).toBe('en');
    expect(detectLocale([])).toBe('en');
  });

  it('fills placeholders and switches language', () => {
    i18n.set('en');
    expect(t('common.showMore', { n: 5 })).toBe('Show 5 more');
    i18n.set('zh');
    expect(t('common.showMore', { n: 5 })).toBe('再显示 5 条');
    expect(document.documentElement.lang).toBe('zh-CN');
    i18n.set('en');
  });

  it('falls back to the key for unknown messages', () => {
    expect(t('no.such.key')).toBe('no.such.key');
  });
});
