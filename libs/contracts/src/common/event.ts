import { Type, type Static } from '@sinclair/typebox';
import { Caller } from './context.js';
import { Timestamp, Uuid } from './schemas.js';

/**
 * The body of every durable event on JetStream. `id` is also the `Nats-Msg-Id`
 * header, so the stream drops a re-published duplicate, and consumers use it to
 * recognise a redelivery.
 */
export const EventEnvelope = Type.Object(
  {
    id: Uuid,
    subject: Type.String(),
    occurredAt: Timestamp,
    tenantId: Type.Union([Uuid, Type.Null()]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    actor: Caller,
    payload: Type.Unknown(),
  },
  { additionalProperties: false },
);

export interface EventEnvelope<P = unknown> extends Omit<Static<typeof EventEnvelope>, 'payload'> {
  readonly payload: P;
}
