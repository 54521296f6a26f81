import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { PROBLEM_CONTENT_TYPE, problem, problemFromError, type Problem } from './problem.js';
import { stateOf } from './request-context.js';

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Fastify's own request errors (body parsing, limits, media types), described for a client. */
function fromFastify(err: FastifyLikeError, requestId: string): Problem | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'validation_failed', 'The request body is not valid JSON.', requestId, [{ pointer: '', detail: 'is not valid JSON' }]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'validation_failed', 'The request body is empty; a JSON object was expected.', requestId, [{ pointer: '', detail: 'is required' }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'payload_too_large', 'The request body is larger than this endpoint accepts.', requestId);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'unsupported_media_type', 'The Content-Type of the request body is not supported here.', requestId);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'validation_failed', 'The Content-Length does not match the body.', requestId);
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return problem(400, 'validation_failed', 'The request URL is malformed.', requestId);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem(414, 'uri_too_long', 'A segment of the request URL is too long.', requestId);
    default:
      break;
  }
  // A JSON body with `__proto__`/`constructor.prototype` keys is refused by Fastify's parser.
  if (err.statusCode === 400 && typeof err.message === 'string' && /prototype/i.test(err.message)) {
    return problem(400, 'validation_failed', 'The request body contains forbidden keys.', requestId);
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.code?.startsWith('FST_ERR_CTP'))) {
    return problem(400, 'validation_failed', 'The request body is not valid JSON.', requestId, [{ pointer: '', detail: 'is not valid JSON' }]);
  }
  return null;
}

/** Turns anything thrown while serving a request into a problem. Unknown errors are logged and become a bare 500. */
export function toProblem(err: unknown, requestId: string, logger: Logger): Problem {
  if (err instanceof DomainError) return problemFromError(err.toBody(), requestId);
  if (err instanceof HttpException) {
    // Nest wraps Fastify's own request errors (body parsing, limits) with the original as cause.
    const cause = err.cause as FastifyLikeError | undefined;
    const fromCause = cause && typeof cause === 'object' ? fromFastify(cause, requestId) : null;
    if (fromCause) return fromCause;
    const status = err.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'error');
    const detail = status === 404 ? 'No such resource.' : status === 405 ? 'This method is not allowed here.' : status >= 500 ? 'An internal error occurred.' : err.message;
    if (status >= 500) logger.error({ err }, 'HTTP exception');
    return problem(status, code, detail, requestId);
  }
  const fastify = typeof err === 'object' && err !== null ? fromFastify(err, requestId) : null;
  if (fastify) return fastify;
  logger.error({ err }, 'unhandled error while serving a request');
  return problem(500, 'internal', 'An internal error occurred.', requestId);
}

export function sendProblem(reply: FastifyReply, p: Problem, err?: unknown): void {
  if (p.status === 401) {
    const invalid = err instanceof DomainError && /not valid/.test(err.message);
    reply.header('www-authenticate', invalid ? 'Bearer realm="musubi", error="invalid_token"' : 'Bearer realm="musubi"');
  }
  if (p.status === 503) reply.header('retry-after', '5');
  reply.code(p.status).header('content-type', PROBLEM_CONTENT_TYPE).header('cache-control', 'no-store').send(JSON.stringify(p));
}

export function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  sendProblem(reply, toProblem(err, stateOf(req).requestId, logger), err);
}
