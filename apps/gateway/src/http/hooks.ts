import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpMetrics } from '@musubi/platform/health';
import type { Logger } from '@musubi/platform/logging';
import { sendProblem, toProblem } from './error-response.js';
import { problem } from './problem.js';
import { requestIdFor, stateOf } from './request-context.js';

export interface HookOptions {
  readonly logger: Logger;
  readonly https: boolean;
}

/**
 * Cross-cutting behaviour of every response: a request id (echoed back),
 * security headers and metrics. (Fastify's own errors reach the problem
 * filter through Nest's error handler, wrapped as HttpException.)
 * Pages that need a different CSP set their own before sending.
 */
export function installHooks(app: FastifyInstance, opts: HookOptions): void {
  app.addHook('onRequest', (req, reply, done) => {
    req.musubi = { requestId: requestIdFor(req), caller: { kind: 'anonymous' }, tenantId: null };
    reply.header('x-request-id', req.musubi.requestId);
    // The admin API speaks JSON only: a url-encoded form (which Nest parses for the hosted pages) must not reach it.
    if (sendsNonJsonToApi(req)) {
      return void sendProblem(reply, problem(415, 'unsupported_media_type', 'The Content-Type of the request body is not supported here.', req.musubi.requestId));
    }
    done();
  });

  // Node's server.close() waits for every keep-alive connection that was busy when
  // it was called, and such a connection stays open after its answer until the
  // client hangs up: the graceful stop would then run into its timeout. Answers
  // sent while closing end their connection instead.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  app.addHook('onSend', (_req, reply, payload, done) => {
    setSecurityHeaders(reply, opts.https);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    httpMetrics.requests.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    opts.logger.debug({ requestId: stateOf(req).requestId, method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });
}

function sendsNonJsonToApi(req: FastifyRequest): boolean {
  if (!req.url.startsWith('/api/') || req.method === 'GET' || req.method === 'HEAD') return false;
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded' && OAUTH_FORM.test(req.url)) return false;
  return hasBody && mediaType !== 'application/json' && !(mediaType === 'text/csv' && CSV_UPLOAD.test(req.url));
}

/** The API token endpoint, which OAuth 2.0 makes take a url-encoded form (RFC 6749 §4.1.3, §6; see api/api-apps.controller.ts). */
const OAUTH_FORM = /^\/api\/v1\/tenants\/[^/?]+\/oauth\/token(?:\?|$)/;

/** The routes that take a CSV file as their body (see api/jobs.controller.ts). */
const CSV_UPLOAD = /^\/api\/v1\/tenants\/[^/?]+\/jobs\/(?:imports|previews)(?:\?|$)/;

/** Headers every response carries unless a route set its own (pages set their CSP). */
export function setSecurityHeaders(reply: FastifyReply, https: boolean): void {
  const set = (name: string, value: string) => {
    if (!reply.hasHeader(name)) reply.header(name, value);
  };
  set('x-content-type-options', 'nosniff');
  set('referrer-policy', 'no-referrer');
  set('x-frame-options', 'DENY');
  set('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  set('cross-origin-opener-policy', 'same-origin');
  set('cross-origin-resource-policy', 'same-origin');
  set('cache-control', 'no-store');
  if (https) set('strict-transport-security', 'max-age=63072000; includeSubDomains');
}

/**
 * Fastify's `frameworkErrors`: the router refuses a malformed URL or an over-long
 * path parameter before any hook runs, so without this the client gets Fastify's
 * own body (its error code, the URL echoed) and none of the headers above.
 */
export function routerErrorHandler(opts: HookOptions): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    const requestId = requestIdFor(req);
    reply.header('x-request-id', requestId);
    setSecurityHeaders(reply, opts.https);
    sendProblem(reply, toProblem(err, requestId, opts.logger));
  };
}
