import type { TSchema } from '@sinclair/typebox';
import type { ServiceName } from './services.js';

/**
 * A request/reply subject (command or query) over core NATS. The owner answers it
 * in a queue group named after itself, so replicas share the load.
 */
export interface RpcDefinition<Req extends TSchema = TSchema, Rep extends TSchema = TSchema> {
  readonly kind: 'rpc';
  readonly owner: ServiceName;
  readonly request: Req;
  readonly reply: Rep;
  readonly summary: string;
}

/**
 * A durable event: written to the owner's transactional outbox and relayed to the
 * owner's JetStream stream. Event names are past tense.
 */
export interface EventDefinition<P extends TSchema = TSchema> {
  readonly kind: 'event';
  readonly owner: ServiceName;
  readonly payload: P;
  readonly summary: string;
}

export type SubjectDefinition = RpcDefinition | EventDefinition;

export const rpc = <Req extends TSchema, Rep extends TSchema>(
  owner: ServiceName,
  request: Req,
  reply: Rep,
  summary: string,
): RpcDefinition<Req, Rep> => ({ kind: 'rpc', owner, request, reply, summary });

export const event = <P extends TSchema>(owner: ServiceName, payload: P, summary: string): EventDefinition<P> => ({
  kind: 'event',
  owner,
  payload,
  summary,
});

/** `musubi.<owner>.<aggregate>.<verb-or-event>.v<N>` */
export const SUBJECT_PATTERN = /^musubi\.([a-z]+)\.([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)\.v([1-9][0-9]*)$/;
