import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@musubi/platform/logging';
import { Periodic } from './periodic.js';

// The timing of the shared background rounds (the jobs' own specs, e.g. DomainRecheckJob, cover joining and stopping).

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

const quiet = { info: jest.fn(), error: jest.fn() } as unknown as Logger;

describe('Periodic', () => {
  it('waits one interval before the first round unless told to run at start', async () => {
    const later = jest.fn(async () => undefined);
    const atStart = jest.fn(async () => undefined);
    const a = new Periodic({ name: 'later', intervalMs: 1000, work: later, logger: quiet });
    const b = new Periodic({ name: 'at start', intervalMs: 1000, work: atStart, logger: quiet, runAtStart: true });
    a.start();
    b.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(later).toHaveBeenCalledTimes(0);
    expect(atStart).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(later).toHaveBeenCalledTimes(1);
    expect(atStart).toHaveBeenCalledTimes(2);
    await Promise.all([a.stop(), b.stop()]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(later).toHaveBeenCalledTimes(1);
    expect(atStart).toHaveBeenCalledTimes(2);
  });

  it('logs a failed round under its name and goes on', async () => {
    const error = jest.fn();
    const work = jest.fn<() => Promise<void>>().mockRejectedValueOnce(new Error('gone')).mockResolvedValue(undefined);
    const p = new Periodic({ name: 'sweep', intervalMs: 500, work, logger: { info: jest.fn(), error } as unknown as Logger });
    p.start();
    await jest.advanceTimersByTimeAsync(500);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'sweep round failed; will try again');
    await jest.advanceTimersByTimeAsync(500);
    expect(work).toHaveBeenCalledTimes(2);
    await p.stop();
  });
});
