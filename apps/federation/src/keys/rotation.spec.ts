import { describe, expect, it } from '@jest/globals';
import { currentKey, manualRotation, plannedKeys, publishedKeys, type KeySchedule } from './rotation.js';

const DAY = 86_400_000;
const policy = { lifetimeMs: 90 * DAY, publishAheadMs: DAY, maxTokenTtlMs: 600_000 };
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const key = (kid: string, from: number, to: number): KeySchedule => ({ kid, alg: 'ES256', notBefore: at(from), notAfter: at(to), expiresAt: at(to + policy.maxTokenTtlMs) });

describe('key rotation schedule', () => {
  it("makes a tenant's first key sign at once", () => {
    expect(plannedKeys([], at(0), policy)).toEqual([{ notBefore: at(0), notAfter: at(90 * DAY), expiresAt: at(90 * DAY + 600_000) }]);
  });

  it('publishes the successor publishAhead before the current key ends, and not earlier', () => {
    const k = key('a', 0, 90 * DAY);
    expect(plannedKeys([k], at(88 * DAY), policy)).toEqual([]);
    const next = plannedKeys([k], at(89 * DAY), policy);
    expect(next).toEqual([{ notBefore: at(90 * DAY), notAfter: at(180 * DAY), expiresAt: at(180 * DAY + 600_000) }]);
    const b = { ...key('b', 90 * DAY, 180 * DAY) };
    // Published but not yet signing; the old key signs until its end, then stays published for its tokens' lifetime.
    expect(currentKey([k, b], at(89.5 * DAY))?.kid).toBe('a');
    expect(currentKey([k, b], at(90 * DAY))?.kid).toBe('b');
    expect(publishedKeys([k, b], at(90 * DAY + 599_999)).map((x) => x.kid)).toEqual(['a', 'b']);
    expect(publishedKeys([k, b], at(90 * DAY + 600_000)).map((x) => x.kid)).toEqual(['b']);
    expect(plannedKeys([k, b], at(89.5 * DAY), policy)).toEqual([]);
  });

  it('a manual rotation publishes the next key now, switches after publishAhead and drops unused future keys', () => {
    const k = key('a', 0, 90 * DAY);
    const future = key('f', 90 * DAY, 180 * DAY);
    const plan = manualRotation([k, future], at(10 * DAY), policy);
    expect(plan.next.notBefore).toEqual(at(11 * DAY));
    expect(plan.shorten).toMatchObject({ kid: 'a', notAfter: at(11 * DAY), expiresAt: at(11 * DAY + 600_000) });
    expect(plan.drop).toEqual(['f']);
  });
});
