import type { ServiceName } from './common/services.js';

/** The JetStream stream holding a service's durable events. One per producing service. */
export const streamNameOf = (owner: ServiceName): string => `MUSUBI_${owner.toUpperCase()}`;

/** Durable consumer names are `<consuming service>` (one per stream it reads). */
export const durableNameOf = (consumer: ServiceName): string => consumer;
