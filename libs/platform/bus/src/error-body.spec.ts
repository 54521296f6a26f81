import { describe, expect, it } from '@jest/globals';
import { DomainError, RemoteError } from '@musubi/platform/errors';
import { captureLogs } from '@musubi/platform/testing';
import { fromWire, toErrorBody } from './error-body.js';

const SUBJECT = 'musubi.directory.tenant.get.v1';

describe('toErrorBody', () => {
  it('passes a domain error with its code, message and details, and logs nothing', () => {
    const logs = captureLogs();
    const err = new DomainError('conflict', 'The slug is taken.', [{ pointer: '/slug', detail: 'is taken' }]);
    expect(toErrorBody(err, logs.logger, SUBJECT)).toEqual({ code: 'conflict', message: 'The slug is taken.', details: [{ pointer: '/slug', detail: 'is taken' }] });
    expect(toErrorBody(new DomainError('not_found', 'No such tenant.'), logs.logger, SUBJECT)).toEqual({ code: 'not_found', message: 'No such tenant.' });
    expect(logs.lines()).toEqual([]);
  });

  it("passes a downstream service's error on with the same code", () => {
    const logs = captureLogs();
    const remote = new RemoteError('musubi.directory.user.get.v1', { code: 'forbidden', message: 'No.' });
    expect(toErrorBody(remote, logs.logger, SUBJECT)).toEqual({ code: 'forbidden', message: 'No.' });
  });

  it.each([
    ['an Error', new Error('secret detail: password=hunter2')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'secret detail')")],
    ['a thrown string', 'secret detail'],
    ['a look-alike plain object', { code: 'not_found', message: 'secret detail' }],
  ])('turns %s into a generic internal error, and logs what happened', (_what, thrownValue) => {
    const logs = captureLogs();
    const body = toErrorBody(thrownValue, logs.logger, SUBJECT);
    expect(body).toEqual({ code: 'internal', message: 'An internal error occurred.' });
    expect(JSON.stringify(body)).not.toContain('secret');
    const line = logs.lines().find((l) => l['msg'] === 'unhandled error in handler');
    expect(line).toMatchObject({ level: 'error', subject: SUBJECT });
    expect(logs.text()).toContain('secret detail');
  });

  it('keeps the stack in the log line', () => {
    const logs = captureLogs();
    toErrorBody(new Error('boom'), logs.logger, SUBJECT);
    const err = logs.lines()[0]?.['err'] as { message: string; stack: string };
    expect(err.message).toBe('boom');
    expect(err.stack).toMatch(/\n\s+at /);
  });
});

describe('fromWire', () => {
  it('reads a well-formed error body', () => {
    expect(fromWire({ code: 'not_found', message: 'No such tenant.' })).toEqual({ code: 'not_found', message: 'No such tenant.' });
    expect(fromWire({ code: 'validation_failed', message: 'Bad.', details: [{ pointer: '/id', detail: 'is required' }] })).toEqual({
      code: 'validation_failed',
      message: 'Bad.',
      details: [{ pointer: '/id', detail: 'is required' }],
    });
  });

  it('drops details that are not a list', () => {
    expect(fromWire({ code: 'conflict', message: 'x', details: 'oops' })).toEqual({ code: 'conflict', message: 'x' });
  });

  it.each([
    ['an unknown code', { code: 'teapot', message: 'I am a teapot' }],
    ['an inherited property name as code', { code: 'toString', message: 'x' }],
    ['a prototype key as code', { code: '__proto__', message: 'x' }],
    ['a code that is not a string', { code: 404, message: 'x' }],
    ['no message', { code: 'not_found' }],
    ['a message that is not a string', { code: 'not_found', message: { text: 'x' } }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'not_found'],
    ['a number', 42],
  ])('turns %s into internal', (_what, body) => {
    expect(fromWire(body)).toEqual({ code: 'internal', message: 'An internal error occurred.' });
  });
});
