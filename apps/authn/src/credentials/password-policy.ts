import type { ErrorDetail } from '@musubi/contracts';

/**
 * The baseline policy until tenants configure their own: NIST SP 800-63B rev 4
 * asks for at least 15 characters when a password is the only factor, accepts
 * at least 64, never truncates and imposes no composition rules.
 */
export const MIN_LENGTH_SINGLE_FACTOR = 15;
export const MAX_LENGTH = 1024;

export interface PolicyContext {
  readonly loginId: string;
  readonly names: readonly string[];
}

/** Returns why a new password is refused, or an empty list. Counted in code points, not UTF-16 units. */
export function checkNewPassword(password: string, ctx: PolicyContext, pointer = '/newPassword'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const length = [...password].length;
  if (length < MIN_LENGTH_SINGLE_FACTOR) problems.push({ pointer, detail: `must be at least ${MIN_LENGTH_SINGLE_FACTOR} characters long` });
  if (length > MAX_LENGTH) problems.push({ pointer, detail: `must be at most ${MAX_LENGTH} characters long` });
  const lower = password.toLowerCase();
  const local = ctx.loginId.split('@')[0]?.toLowerCase() ?? '';
  const personal = [local, ...ctx.names.map((n) => n.toLowerCase())].filter((s) => s.length >= 3);
  if (personal.some((p) => lower.includes(p))) problems.push({ pointer, detail: 'must not contain your login ID or your name' });
  if (/^(.)\1+$/u.test(password)) problems.push({ pointer, detail: 'must not be one character repeated' });
  return problems;
}
