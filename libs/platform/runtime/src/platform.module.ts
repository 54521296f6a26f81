import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { ServiceName } from '@musubi/contracts';
import type { Logger } from '@musubi/platform/logging';
import type { HealthRegistry } from '@musubi/platform/health';
import type { EventConsumerOptions } from '@musubi/platform/bus';

/** Injection tokens for what the runtime provides to every service module. */
export const CONFIG = Symbol('musubi.config');
export const LOGGER = Symbol('musubi.logger');
export const REDIS = Symbol('musubi.redis');
/** The service's NATS connection (for JetStream extras such as file stores). */
export const NATS = Symbol('musubi.nats');
export const HEALTH = Symbol('musubi.health');
export const SERVICE_NAME = Symbol('musubi.service-name');

/** Consumer registrations collected during module init and started once the service listens. */
export class EventConsumers {
  readonly registrations: Array<Pick<EventConsumerOptions, 'from' | 'subjects' | 'handle' | 'maxBatch'>> = [];

  register(opts: Pick<EventConsumerOptions, 'from' | 'subjects' | 'handle' | 'maxBatch'>): void {
    this.registrations.push(opts);
  }
}

export interface PlatformProviders {
  readonly service: ServiceName;
  readonly config: unknown;
  readonly logger: Logger;
  readonly health: HealthRegistry;
  readonly extra: readonly Provider[];
}

/** Global module exposing the runtime's objects (config, logger, bus, db, redis) to the service's modules. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(p: PlatformProviders): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_NAME, useValue: p.service },
      { provide: CONFIG, useValue: p.config },
      { provide: LOGGER, useValue: p.logger },
      { provide: HEALTH, useValue: p.health },
      ...p.extra,
    ];
    return {
      module: PlatformModule,
      providers,
      exports: providers.map((x) => (typeof x === 'function' ? x : x.provide)),
    };
  }
}
