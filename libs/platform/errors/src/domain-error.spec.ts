import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from '@musubi/contracts';
import { DomainError, RemoteError, assertUnreachable, validationError } from './domain-error.js';

const frames = (stack: string | undefined) => (stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));

describe('DomainError', () => {
  it('carries its code, message and details', () => {
    const details = [{ pointer: '/slug', detail: 'is taken' }];
    const err = new DomainError('tenant_slug_taken', 'The slug "acme" is taken.', details);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('DomainError');
    expect(err.code).toBe('tenant_slug_taken');
    expect(err.message).toBe('The slug "acme" is taken.');
    expect(err.details).toEqual(details);
    expect(err.toBody()).toEqual({ code: 'tenant_slug_taken', message: 'The slug "acme" is taken.', details });
  });

  it("defaults the message to the code's description and the details to none", () => {
    const err = new DomainError('rate_limited');
    expect(err.message).toBe(ERROR_CODES.rate_limited);
    expect(err.details).toEqual([]);
    expect(err.toBody()).toEqual({ code: 'rate_limited', message: ERROR_CODES.rate_limited });
    expect('details' in err.toBody()).toBe(false);
  });

  it('captures no stack frames', () => {
    expect(frames(new DomainError('not_found').stack)).toEqual([]);
    expect(frames(new RemoteError('musubi.directory.tenant.get.v1', { code: 'not_found', message: 'x' }).stack)).toEqual([]);
  });

  it('leaves stack traces of other errors alone', () => {
    const before = Error.stackTraceLimit;
    new DomainError('conflict');
    expect(Error.stackTraceLimit).toBe(before);
    expect(frames(new Error('bug').stack).length).toBeGreaterThan(0);
  });
});

describe('RemoteError', () => {
  it('is a DomainError with the remote code, message, details and the subject asked', () => {
    const err = new RemoteError('musubi.directory.tenant.get.v1', { code: 'validation_failed', message: 'Bad.', details: [{ pointer: '/id', detail: 'is required' }] });
    expect(err).toBeInstanceOf(DomainError);
    expect(err.name).toBe('RemoteError');
    expect(err.subject).toBe('musubi.directory.tenant.get.v1');
    expect(err.toBody()).toEqual({ code: 'validation_failed', message: 'Bad.', details: [{ pointer: '/id', detail: 'is required' }] });
    expect(new RemoteError('s', { code: 'internal', message: 'x' }).details).toEqual([]);
  });
});

describe('validationError', () => {
  it('is validation_failed with the given details', () => {
    const err = validationError([{ pointer: '/x', detail: 'is required' }]);
    expect(err.toBody()).toEqual({ code: 'validation_failed', message: 'The request is invalid.', details: [{ pointer: '/x', detail: 'is required' }] });
    expect(validationError([], 'Nope.').message).toBe('Nope.');
  });
});

describe('assertUnreachable', () => {
  it('throws, naming the value', () => {
    expect(() => assertUnreachable('surprise' as never, 'kind')).toThrow('Unexpected kind: "surprise"');
  });
});
