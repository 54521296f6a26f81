import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusClient } from '@musubi/platform/bus';
import { loadConfig } from '@musubi/platform/config';
import { HealthRegistry } from '@musubi/platform/health';
import { createLogger } from '@musubi/platform/logging';
import { NATS, PlatformModule, REDIS } from '@musubi/platform/runtime';
import { AppModule } from '../app.module.js';
import { gatewaySettings } from '../config/env.schema.js';
import { OpenApiService } from './openapi.service.js';

// The gateway's real module on Fastify, with the bus and Redis stubbed (no route is called):
// what the router serves under /api/v1 and what the OpenAPI document lists must be the same.

let app: NestFastifyApplication;
const served: string[] = [];

beforeAll(async () => {
  const adapter = new FastifyAdapter({ logger: false });
  adapter.getInstance().addHook('onRoute', (route) => {
    for (const m of [route.method].flat()) served.push(`${m.toLowerCase()} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  });
  const config = loadConfig(gatewaySettings, { MUSUBI_OPERATOR_TOKEN: 'x'.repeat(32) });
  const moduleRef = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({
        service: 'gateway',
        config,
        logger: createLogger({ service: 'gateway', level: 'silent' }),
        health: new HealthRegistry(),
        extra: [
          { provide: BusClient, useValue: {} },
          { provide: REDIS, useValue: {} },
          // The introspection feed subscribes at bootstrap; nothing is published here.
          { provide: NATS, useValue: { subscribe: () => ({ unsubscribe: () => undefined }) } },
        ],
      }),
      AppModule,
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
  await app.init();
});

afterAll(async () => {
  await app?.close();
});

describe('the OpenAPI document', () => {
  it('lists every /api/v1 route the gateway serves, and nothing it does not', () => {
    const api = [...new Set(served.filter((r) => r.split(' ')[1]?.startsWith('/api/v1') && !r.startsWith('head ')))].sort();
    const documented = app
      .get(OpenApiService)
      .routes()
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(api.length).toBeGreaterThan(5);
    expect(documented).toEqual(api);
  });

  it('gives every route with a body an example that its own schema accepts', async () => {
    const { validate } = await import('@musubi/platform/validation');
    const missing = app
      .get(OpenApiService)
      .routes()
      .filter((r) => r.doc.body && (r.doc.example === undefined || !validate(r.doc.body, r.doc.example).ok))
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('names an access rule for every /api/v1 route except the session endpoint and the API token endpoint (OAuth client authentication)', () => {
    const open = app
      .get(OpenApiService)
      .routes()
      .filter((r) => !r.access && r.path !== '/api/v1/me' && r.path !== '/api/v1/tenants/{tenantId}/oauth/token')
      .map((r) => `${r.method} ${r.path}`);
    expect(open).toEqual([]);
  });
});
