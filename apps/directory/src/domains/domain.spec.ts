import { describe, expect, it } from '@jest/globals';
import { afterCheck, type CheckOutcome, type Domain, type DomainStatus } from './domain.js';

const HOUR = 3_600_000;
const t0 = new Date('2026-04-01T00:00:00Z');
const now = new Date('2026-04-01T06:00:00Z');

const domain = (status: DomainStatus, failedChecks = 0): Domain => ({
  id: 'd',
  tenantId: 't',
  name: 'acme.co.jp',
  status,
  token: 'tok',
  verifiedAt: status === 'pending' ? null : t0,
  lostAt: status === 'lost' ? t0 : null,
  lastCheckedAt: null,
  lastCheckOutcome: null,
  lastCheckMessage: null,
  failedChecks,
  nextCheckAt: status === 'pending' ? null : t0,
  createdAt: t0,
  updatedAt: t0,
  version: 4,
});

const check = (d: Domain, outcome: CheckOutcome) => afterCheck(d, { outcome, message: `it was ${outcome}` }, now, 6 * HOUR);

describe('afterCheck', () => {
  it('verifies a pending domain when the record matches, due again after the interval', () => {
    const { next, transition } = check(domain('pending'), 'matched');
    expect(transition).toEqual({ from: 'pending', to: 'verified' });
    expect(next).toMatchObject({ status: 'verified', verifiedAt: now, failedChecks: 0, lostAt: null, lastCheckedAt: now, lastCheckOutcome: 'matched', version: 5 });
    expect(next.nextCheckAt).toEqual(new Date(now.getTime() + 6 * HOUR));
  });

  it.each<CheckOutcome>(['record_missing', 'wrong_value', 'dns_error', 'timeout'])('keeps a pending domain pending on %s, reporting it', (outcome) => {
    const { next, transition } = check(domain('pending'), outcome);
    expect(transition).toBeNull();
    expect(next).toMatchObject({ status: 'pending', nextCheckAt: null, failedChecks: 0, lastCheckOutcome: outcome, lastCheckMessage: `it was ${outcome}` });
  });

  it.each<CheckOutcome>(['record_missing', 'wrong_value'])('loses a verified domain at the second %s in a row, not the first', (outcome) => {
    const first = check(domain('verified'), outcome);
    expect(first.transition).toBeNull();
    expect(first.next).toMatchObject({ status: 'verified', failedChecks: 1, verifiedAt: t0 });
    const second = check(first.next, outcome);
    expect(second.transition).toEqual({ from: 'verified', to: 'lost' });
    expect(second.next).toMatchObject({ status: 'lost', lostAt: now, failedChecks: 2, verifiedAt: t0 });
  });

  it('forgets a failure when the next check finds the record, keeping when it was verified', () => {
    const { next, transition } = check(domain('verified', 1), 'matched');
    expect(transition).toBeNull();
    expect(next).toMatchObject({ status: 'verified', failedChecks: 0, verifiedAt: t0 });
  });

  it.each<CheckOutcome>(['dns_error', 'timeout'])('counts no %s against a verified domain', (outcome) => {
    const { next, transition } = check(domain('verified', 1), outcome);
    expect(transition).toBeNull();
    expect(next).toMatchObject({ status: 'verified', failedChecks: 1, lastCheckOutcome: outcome });
    expect(next.nextCheckAt).toEqual(new Date(now.getTime() + 6 * HOUR));
  });

  it('restores a lost domain when the record is back, and keeps it lost otherwise', () => {
    const back = check(domain('lost', 2), 'matched');
    expect(back.transition).toEqual({ from: 'lost', to: 'verified' });
    expect(back.next).toMatchObject({ status: 'verified', verifiedAt: now, lostAt: null, failedChecks: 0 });
    const still = check(domain('lost', 2), 'record_missing');
    expect(still.transition).toBeNull();
    expect(still.next).toMatchObject({ status: 'lost', lostAt: t0, failedChecks: 3 });
  });
});
