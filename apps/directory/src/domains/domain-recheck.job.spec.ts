import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@musubi/platform/logging';
import { DomainRecheckJob, RECHECK_TICK_MS } from './domain-recheck.job.js';
import type { DomainsService, RecheckRound } from './domains.service.js';

const logger = { info: jest.fn(), error: jest.fn() } as unknown as Logger;
const round: RecheckRound = { checked: 1, lost: 0, restored: 0 };

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('DomainRecheckJob', () => {
  it('runs a round every tick once the application has started, one at a time', async () => {
    const recheckDue = jest.fn<DomainsService['recheckDue']>().mockResolvedValue(round);
    const job = new DomainRecheckJob({ recheckDue } as unknown as DomainsService, logger);
    job.onApplicationBootstrap();
    expect(recheckDue).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(2);
    await job.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(5 * RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(2);
  });

  it('lets a running round finish before shutting down, and starts no other', async () => {
    let finish: (r: RecheckRound) => void = () => undefined;
    const recheckDue = jest.fn<DomainsService['recheckDue']>().mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    const job = new DomainRecheckJob({ recheckDue } as unknown as DomainsService, logger);
    job.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(1);
    // A second request while one runs joins it.
    const joined = job.runOnce();
    expect(recheckDue).toHaveBeenCalledTimes(1);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish(round);
    await Promise.all([stopping, joined]);
    expect(stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(5 * RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(1);
  });

  it('logs a failed round and keeps ticking', async () => {
    const recheckDue = jest.fn<DomainsService['recheckDue']>().mockRejectedValueOnce(new Error('database gone')).mockResolvedValue(round);
    const error = jest.fn();
    const job = new DomainRecheckJob({ recheckDue } as unknown as DomainsService, { info: jest.fn(), error } as unknown as Logger);
    job.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RECHECK_TICK_MS);
    expect(error).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(RECHECK_TICK_MS);
    expect(recheckDue).toHaveBeenCalledTimes(2);
    await job.stop();
  });
});
