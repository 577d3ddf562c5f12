// A promise-based confirmation dialog (instead of window.confirm, which blocks and cannot be styled).
export interface ConfirmRequest {
  message: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

class ConfirmState {
  current = $state<ConfirmRequest | null>(null);
}

export const confirmState = new ConfirmState();

export function confirmAction(message: string, danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    confirmState.current?.resolve(false);
    confirmState.current = { message, danger, resolve };
  });
}

export function answerConfirm(ok: boolean): void {
  const c = confirmState.current;
  confirmState.current = null;
  c?.resolve(ok);
}
