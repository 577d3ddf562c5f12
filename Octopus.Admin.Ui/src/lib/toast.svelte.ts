// Short notices in the corner: success, or an error message from the API.
export interface Toast {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
}

class Toasts {
  items = $state<Toast[]>([]);
  private next = 1;

  show(kind: Toast['kind'], text: string, ms = kind === 'error' ? 6000 : 3000): void {
    const id = this.next++;
    this.items.push({ id, kind, text });
    setTimeout(() => this.dismiss(id), ms);
  }

  ok(text: string): void {
    this.show('ok', text);
  }

  error(e: unknown): void {
    this.show('error', e instanceof Error ? e.message : String(e));
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();
