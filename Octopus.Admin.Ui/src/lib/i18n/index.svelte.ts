// English and Simplified Chinese. The browser's languages choose at first visit; the choice is remembered.
import en from './en';
import zh from './zh';

export type Locale = 'en' | 'zh';
export type Messages = Record<keyof typeof en, string>;
const KEY = 'octopus.locale';
export const dictionaries: Record<Locale, Messages> = { en, zh };

export function detectLocale(languages: readonly string[]): Locale {
  for (const lang of languages) {
    const l = lang.toLowerCase();
    if (l.startsWith('zh')) return 'zh';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

class I18n {
  locale = $state<Locale>('en');

  constructor() {
    if (typeof window === 'undefined') return;
    const stored = localStorage.getItem(KEY);
    this.locale = stored === 'en' || stored === 'zh' ? stored : detectLocale(navigator.languages ?? [navigator.language]);
    document.documentElement.lang = this.locale === 'zh' ? 'zh-CN' : 'en';
  }

  set(locale: Locale): void {
    this.locale = locale;
    localStorage.setItem(KEY, locale);
    document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en';
  }
}

export const i18n = new I18n();

/** Translates `key`, filling `{name}` placeholders; unknown keys fall back to English, then to the key. */
export function t(key: keyof Messages | string, vars?: Record<string, string | number>): string {
  const dict = dictionaries[i18n.locale] as Record<string, string>;
  let s = dict[key] ?? (en as Record<string, string>)[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  return s;
}
