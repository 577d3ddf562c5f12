// Client-side checks for a new admin password (the gateway enforces its own rules too).
export const MIN_PASSWORD_LENGTH = 8;

export type PasswordProblem = 'tooShort' | 'mismatch' | 'sameAsOld' | null;

export function checkNewPassword(oldPassword: string, next: string, repeat: string): PasswordProblem {
  if (next.length < MIN_PASSWORD_LENGTH) return 'tooShort';
  if (next !== repeat) return 'mismatch';
  if (next === oldPassword) return 'sameAsOld';
  return null;
}
