import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { HealthRegistry } from '@musubi/platform/health';
import { HEALTH } from '@musubi/platform/runtime';

/** Public health of the gateway: up when it can reach the bus and Redis. Details stay on the management port. */
@Controller('health')
export class HealthController {
  constructor(@Inject(HEALTH) private readonly health: HealthRegistry) {}

  @Get()
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: 'ok' | 'unavailable' }> {
    const report = await this.health.readiness(1000);
    reply.header('cache-control', 'no-store');
    if (report.status !== 'ready') {
      reply.code(503);
      return { status: 'unavailable' };
    }
    return { status: 'ok' };
  }
}
