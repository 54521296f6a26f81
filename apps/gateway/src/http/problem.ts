import type { ErrorBody, ErrorCode, ErrorDetail } from '@musubi/contracts';
import { assertUnreachable } from '@musubi/platform/errors';

/** The one mapping from domain error codes to HTTP status codes. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
    case 'read_only':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'tenant_slug_taken':
    case 'login_id_taken':
    case 'domain_claimed':
    case 'group_cycle':
    case 'limit_exceeded':
      return 409;
    case 'precondition_failed':
      return 412;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'rate_limited':
      return 429;
    case 'internal':
      return 500;
    case 'service_unavailable':
      return 503;
    default:
      return assertUnreachable(code, 'error code');
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** RFC 9457 problem details, with the domain code and per-field errors as extensions. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly requestId: string;
  readonly errors?: readonly ErrorDetail[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problem(status: number, code: string, detail: string, requestId: string, errors?: readonly ErrorDetail[]): Problem {
  const base = { type: `urn:musubi:problem:${code}`, title: TITLES[status] ?? 'Error', status, detail, code, requestId };
  return errors && errors.length > 0 ? { ...base, errors } : base;
}

export function problemFromError(body: ErrorBody, requestId: string): Problem {
  const status = httpStatusOf(body.code);
  // Nothing from a 5xx's internals reaches the client: only the generic message of its code.
  const detail = status >= 500 && body.code === 'internal' ? 'An internal error occurred.' : body.message;
  return problem(status, body.code, detail, requestId, status < 500 ? body.details : undefined);
}
