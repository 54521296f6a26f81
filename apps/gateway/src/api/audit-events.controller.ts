import { Controller, Get, Param, Query } from '@nestjs/common';
import { AuditEventView, Page, type CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { PageQuery, UuidParam, pageQueryDoc, type PageParams } from './params.js';

@Controller('api/v1/tenants/:tenantId/audit-events')
export class AuditEventsController {
  constructor(private readonly bus: BusClient) {}

  @Get()
  @Requires('audit:read')
  @ApiDoc({ summary: "List a tenant's audit events, newest first", tag: 'Audit', status: 200, response: Page(AuditEventView), query: pageQueryDoc })
  async list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new PageQuery()) page: PageParams, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    // audit keeps events, not tenants: the directory says whether the tenant exists (404 otherwise).
    await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, scoped);
    return this.bus.request('musubi.audit.event.list.v1', { tenantId, ...page }, scoped);
  }
}
