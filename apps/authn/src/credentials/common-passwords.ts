import { readFileSync } from 'node:fs';

let loaded: ReadonlySet<string> | undefined;

/**
 * The shipped list of common and breached passwords (`common-passwords.txt`,
 * next to this file in the source and in the build), lower-cased, loaded once.
 */
export function commonPasswords(): ReadonlySet<string> {
  loaded ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => l.length > 0 && !l.startsWith('#')),
  );
  return loaded;
}

/**
 * Whether a password is on the list, as typed, without its trailing digits and
 * symbols ("password123!"), or with letters repeated to reach a length
 * ("qwertyqwertyqwerty").
 */
export function isCommonPassword(password: string): boolean {
  const list = commonPasswords();
  const lower = password.toLowerCase();
  if (list.has(lower)) return true;
  const stem = lower.replace(/[\d\W_]+$/u, '');
  if (stem.length >= 6 && list.has(stem)) return true;
  for (let n = 6; n <= lower.length / 2; n++) {
    const unit = lower.slice(0, n);
    if (unit.repeat(Math.ceil(lower.length / n)).startsWith(lower) && list.has(unit)) return true;
  }
  return false;
}
