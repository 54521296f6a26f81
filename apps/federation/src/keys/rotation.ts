import type { SigningAlg } from '@musubi/contracts';

export interface KeySchedule {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly expiresAt: Date;
}

export interface RotationPolicy {
  /** How long one key signs. */
  readonly lifetimeMs: number;
  /** How long a next key is published before it signs. */
  readonly publishAheadMs: number;
  /** The longest lifetime of anything signed: a key stays published this long after it stops signing. */
  readonly maxTokenTtlMs: number;
}

/** The key that signs at `now`: the latest one whose window holds `now`. */
export function currentKey<K extends KeySchedule>(keys: readonly K[], now: Date): K | null {
  let best: K | null = null;
  for (const k of keys) {
    if (k.notBefore <= now && now < k.notAfter && (!best || k.notBefore > best.notBefore)) best = k;
  }
  return best;
}

/** Keys to publish in the JWKS at `now`: every key made, until its last token expired. */
export const publishedKeys = <K extends KeySchedule>(keys: readonly K[], now: Date): K[] => keys.filter((k) => k.expiresAt > now);

/**
 * The windows of the keys to create so that a key signs now and, once the
 * current one is within `publishAheadMs` of its end, its successor is already
 * published. A tenant's first key signs at once (nothing could have cached a
 * JWKS without it).
 */
export function plannedKeys(keys: readonly KeySchedule[], now: Date, p: RotationPolicy): Array<Omit<KeySchedule, 'kid' | 'alg'>> {
  const out: Array<Omit<KeySchedule, 'kid' | 'alg'>> = [];
  const window = (start: Date) => {
    const notAfter = new Date(start.getTime() + p.lifetimeMs);
    return { notBefore: start, notAfter, expiresAt: new Date(notAfter.getTime() + p.maxTokenTtlMs) };
  };
  if (!currentKey(keys, now)) {
    const first = window(now);
    out.push(first);
    if (first.notAfter.getTime() - now.getTime() <= p.publishAheadMs) out.push(window(first.notAfter));
    return out;
  }
  const last = keys.reduce((a, b) => (b.notAfter > a.notAfter ? b : a));
  if (last.notAfter.getTime() - now.getTime() <= p.publishAheadMs) out.push(window(last.notAfter));
  return out;
}

/**
 * A rotation asked for now: the next key signs after `publishAheadMs`, the
 * current one stops then and stays published until its tokens expired. Keys
 * scheduled for later are dropped: nothing was signed with them.
 */
export function manualRotation(keys: readonly KeySchedule[], now: Date, p: RotationPolicy): { next: Omit<KeySchedule, 'kid' | 'alg'>; shorten: KeySchedule | null; drop: string[] } {
  const start = new Date(now.getTime() + p.publishAheadMs);
  const cur = currentKey(keys, now);
  const notAfter = new Date(start.getTime() + p.lifetimeMs);
  const shorten = cur && cur.notAfter > start ? { ...cur, notAfter: start, expiresAt: new Date(start.getTime() + p.maxTokenTtlMs) } : null;
  return {
    next: { notBefore: start, notAfter, expiresAt: new Date(notAfter.getTime() + p.maxTokenTtlMs) },
    shorten,
    drop: keys.filter((k) => k.notBefore > now && k.kid !== cur?.kid).map((k) => k.kid),
  };
}
