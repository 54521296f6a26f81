import { NestFactory } from '@nestjs/core';
import fastifyCookie from '@fastify/cookie';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { gatewaySettings } from './config/env.schema.js';
import { installHooks, routerErrorHandler } from './http/hooks.js';

export const gatewayService: ServiceDefinition<typeof gatewaySettings> = {
  name: 'gateway',
  settings: gatewaySettings,
  redis: true,
  module: () => AppModule,
  http: {
    port: (config) => config.PORT,
    create: async ({ root, nestLogger, logger, config }) => {
      const https = config.PUBLIC_URL.startsWith('https:');
      const adapter = new FastifyAdapter({
        bodyLimit: config.BODY_LIMIT_BYTES,
        // Only listed proxies may speak for the client's address; none by default.
        trustProxy: config.TRUSTED_PROXIES.length > 0 ? config.TRUSTED_PROXIES : false,
        routerOptions: { caseSensitive: true },
        return503OnClosing: true,
        logger: false,
        frameworkErrors: routerErrorHandler({ logger, https }),
      });
      const app = await NestFactory.create<NestFastifyApplication>(root, adapter, { logger: nestLogger, bufferLogs: false });
      // Hosted pages use cookies (Nest itself parses their url-encoded forms).
      await app.register(fastifyCookie);
      const fastify = app.getHttpAdapter().getInstance();
      // CSV uploads (the only non-JSON bodies the API takes; hooks refuse them elsewhere) reach their route as a stream.
      fastify.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
      installHooks(fastify, { logger, https });
      return app;
    },
  },
};
