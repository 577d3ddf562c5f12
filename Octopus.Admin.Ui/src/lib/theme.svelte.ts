// Light/dark theme: 'system' follows prefers-color-scheme; the choice is remembered.
export type ThemeMode = 'system' | 'light' | 'dark';
const KEY = 'octopus.theme';

class Theme {
  mode = $state<ThemeMode>('system');
  systemDark = $state(false);

  constructor() {
    if (typeof window === 'undefined') return;
    const stored = localStorage.getItem(KEY);
    if (stored === 'light' || stored === 'dark' || stored === 'system') this.mode = stored;
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (mq) {
      this.systemDark = mq.matches;
      mq.addEventListener?.('change', (e) => {
        this.systemDark = e.matches;
        this.apply();
      });
    }
    this.apply();
  }

  get dark(): boolean {
    return this.mode === 'dark' || (this.mode === 'system' && this.systemDark);
  }

  set(mode: ThemeMode): void {
    this.mode = mode;
    localStorage.setItem(KEY, mode);
    this.apply();
  }

  toggle(): void {
    this.set(this.dark ? 'light' : 'dark');
  }

  private apply(): void {
    document.documentElement.dataset.theme = this.dark ? 'dark' : 'light';
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', this.dark ? '#0f1115' : '#ffffff');
  }
}

export const theme = new Theme();
