import type { AuditChange } from '@musubi/contracts';
import { canonicalJson } from '../chain/offline-verifier.js';
import { isSecretKey, redact } from './redact.js';

/** Fields every resource changes on every write: they say nothing about what the administrator changed. */
const NOISE = new Set(['updatedAt', 'version']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
};

/**
 * The field-level difference between a resource before and after a change:
 * nested objects are compared field by field, arrays and scalars as whole values.
 * A field whose key names a secret is listed as changed but with no values.
 */
export function diff(before: unknown, after: unknown, maxChanges = 200): AuditChange[] {
  const out: AuditChange[] = [];
  const walk = (a: unknown, b: unknown, path: string, depth: number, secret: boolean) => {
    if (out.length >= maxChanges) return;
    if (isPlainObject(a) && isPlainObject(b) && !secret) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const k of keys) {
        if (depth === 0 && NOISE.has(k)) continue;
        const p = path ? `${path}.${k}` : k;
        const inA = Object.prototype.hasOwnProperty.call(a, k) && a[k] !== undefined;
        const inB = Object.prototype.hasOwnProperty.call(b, k) && b[k] !== undefined;
        const isSecret = isSecretKey(k);
        if (inA && inB) walk(a[k], b[k], p, depth + 1, isSecret);
        else if (inA) out.push(isSecret ? { path: p, op: 'removed', redacted: true } : { path: p, op: 'removed', before: redact(a[k]) });
        else if (inB) out.push(isSecret ? { path: p, op: 'added', redacted: true } : { path: p, op: 'added', after: redact(b[k]) });
        if (out.length >= maxChanges) return;
      }
      return;
    }
    if (same(a, b)) return;
    out.push(secret ? { path, op: 'changed', redacted: true } : { path, op: 'changed', before: redact(a), after: redact(b) });
  };
  walk(before, after, '', 0, false);
  return out;
}
