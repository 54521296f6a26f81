import { isErrorCode, type ErrorBody } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';

/**
 * The one mapping from anything thrown in a handler to the error a caller sees.
 * Domain errors pass with their code; anything else is logged here (with its
 * stack, which never leaves the process) and becomes `internal`.
 */
export function toErrorBody(err: unknown, logger: Logger, subject: string): ErrorBody {
  if (err instanceof DomainError) return err.toBody();
  logger.error({ err, subject }, 'unhandled error in handler');
  return { code: 'internal', message: 'An internal error occurred.' };
}

export function fromWire(body: unknown): ErrorBody {
  const b = body as Partial<ErrorBody> | null;
  if (b && isErrorCode(b.code) && typeof b.message === 'string') {
    return Array.isArray(b.details) ? { code: b.code, message: b.message, details: b.details } : { code: b.code, message: b.message };
  }
  return { code: 'internal', message: 'An internal error occurred.' };
}
