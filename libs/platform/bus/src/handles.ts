import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import type { CallContext, ReplyOf, RequestOf, RpcSubject } from '@musubi/contracts';

/** The shape a handler of `S` must have; the compiler checks it where `@Handles` is applied. */
export type RpcHandler<S extends RpcSubject> = (request: RequestOf<S>, ctx: CallContext) => Promise<ReplyOf<S>>;

/**
 * Marks a method as the handler of a request/reply subject. The payload it
 * receives has already been validated against the subject's request schema.
 */
export function Handles<S extends RpcSubject>(subject: S) {
  // Only `value` is checked (covariantly): a handler may ignore the context argument.
  return (target: object, key: string | symbol, descriptor: { readonly value?: RpcHandler<S> }): void => {
    MessagePattern(subject)(target, key, descriptor as PropertyDescriptor);
    // The bus server calls handlers with (payload, call context); without these
    // Nest would hand over only the payload.
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
  };
}

/**
 * The one RPC error filter: it hands every exception, unchanged, to the bus
 * server, which maps it to the reply (`toErrorBody`). Without it Nest would
 * replace domain errors by a generic "Internal server error".
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
