import { ERROR_CODES, type ErrorBody, type ErrorCode, type ErrorDetail } from '@musubi/contracts';

/**
 * The only error a service throws on purpose. It carries a code from the
 * contracts; the bus edge turns it into `{ code, message, details }` and the
 * gateway maps the code to HTTP, OAuth, SAML or SCIM.
 *
 * `message` is meant for the client: never put a secret, a stack or an
 * internal identifier in it.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details: readonly ErrorDetail[] = [],
  ) {
    // Domain errors are expected outcomes (not found, conflict...), not bugs: capturing
    // a stack for each cost ~15 µs a request and the stack never leaves the process anyway.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'DomainError';
  }

  toBody(): ErrorBody {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** An error reply from another service, re-thrown in the caller with the same code. */
export class RemoteError extends DomainError {
  constructor(
    readonly subject: string,
    body: ErrorBody,
  ) {
    super(body.code, body.message, body.details ?? []);
    this.name = 'RemoteError';
  }
}

export const validationError = (details: readonly ErrorDetail[], message = 'The request is invalid.') =>
  new DomainError('validation_failed', message, details);

/** For exhaustive switches: the compiler proves this is never reached. */
export function assertUnreachable(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
