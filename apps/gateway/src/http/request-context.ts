import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CallContext, Caller } from '@musubi/contracts';
import { isValidRequestId } from '@musubi/platform/bus';

/** What the gateway knows about the request once authenticated. */
export interface RequestState {
  requestId: string;
  caller: Caller;
  tenantId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    musubi?: RequestState;
  }
}

/** Request id from a sane `X-Request-Id`, or a new one; set in the onRequest hook. */
export function requestIdFor(req: FastifyRequest): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && isValidRequestId(given) ? given : randomUUID();
}

export function stateOf(req: FastifyRequest): RequestState {
  req.musubi ??= { requestId: requestIdFor(req), caller: { kind: 'anonymous' }, tenantId: null };
  return req.musubi;
}

export function callContextOf(req: FastifyRequest, tenantId?: string): CallContext {
  const s = stateOf(req);
  return { requestId: s.requestId, tenantId: tenantId ?? s.tenantId, caller: s.caller };
}

/** The call context for bus requests made on behalf of this HTTP request. */
export const Call = createParamDecorator((_: unknown, ctx: ExecutionContext): CallContext => callContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()));
