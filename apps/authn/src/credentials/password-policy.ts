import type { ErrorDetail } from '@musubi/contracts';
import { isCommonPassword } from './common-passwords.js';

/**
 * The baseline: NIST SP 800-63B rev 4 asks for at least 15 characters when a
 * password is the only factor, accepts at least 64, never truncates and
 * imposes no composition rules. Tenants tighten or loosen it within 6-24.
 */
export const MIN_LENGTH_SINGLE_FACTOR = 15;
export const MAX_LENGTH = 1024;

export interface PolicyContext {
  readonly loginId: string;
  readonly names: readonly string[];
}

export interface PasswordRules {
  readonly minLength: number;
  /** Three kinds of: upper case, lower case, kana or kanji, digits, symbols. */
  readonly complexity: boolean;
}

export const DEFAULT_RULES: PasswordRules = { minLength: MIN_LENGTH_SINGLE_FACTOR, complexity: false };

const COMPLEXITY = 'must mix at least three kinds of characters: upper case, lower case, kana or kanji, digits, symbols';

function classes(password: string): number {
  return [/\p{Lu}/u, /\p{Ll}/u, /\p{Lo}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}]/u].filter((r) => r.test(password)).length;
}

/** Returns why a new password is refused, or an empty list. Counted in code points, not UTF-16 units. */
export function checkNewPassword(password: string, ctx: PolicyContext, pointer = '/newPassword', rules: PasswordRules = DEFAULT_RULES): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const length = [...password].length;
  if (length < rules.minLength) problems.push({ pointer, detail: `must be at least ${rules.minLength} characters long` });
  if (length > MAX_LENGTH) problems.push({ pointer, detail: `must be at most ${MAX_LENGTH} characters long` });
  const lower = password.toLowerCase();
  const local = ctx.loginId.split('@')[0]?.toLowerCase() ?? '';
  const personal = [local, ...ctx.names.map((n) => n.toLowerCase())].filter((s) => s.length >= 3);
  if (personal.some((p) => lower.includes(p))) problems.push({ pointer, detail: 'must not contain your login ID or your name' });
  if (/^(.)\1+$/u.test(password)) problems.push({ pointer, detail: 'must not be one character repeated' });
  else if (isCommonPassword(password)) problems.push({ pointer, detail: 'is too common: it is on a list of passwords attackers try first' });
  if (rules.complexity && classes(password) < 3) problems.push({ pointer, detail: COMPLEXITY });
  return problems;
}
