import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Page, TenantCreateRequest, TenantLifecycleBody, TenantUpdateBody, TenantView, type CallContext, type TenantView as TenantViewT } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { AnswersUnknownTenant, OperatorOnly, Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf, expectedVersion } from './etag.js';
import { PageQuery, UuidParam, pageQueryDoc, type PageParams } from './params.js';

@Controller('api/v1/tenants')
@AnswersUnknownTenant()
export class TenantsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @HttpCode(201)
  @OperatorOnly()
  @ApiDoc({
    summary: 'Create a tenant',
    tag: 'Tenants',
    status: 201,
    body: TenantCreateRequest,
    example: { slug: 'acme', displayName: 'Acme 株式会社', timeZone: 'Asia/Tokyo', defaultLocale: 'ja-JP', limits: { users: 500 } },
    response: TenantView,
    errors: [409, 413, 415],
  })
  async create(
    @Body(new SchemaPipe(TenantCreateRequest)) body: TenantCreateRequest,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TenantViewT> {
    const tenant = await this.bus.request('musubi.directory.tenant.create.v1', body, ctx);
    reply.header('location', `/api/v1/tenants/${tenant.id}`).header('etag', etagOf(tenant));
    return tenant;
  }

  @Get()
  @OperatorOnly()
  @ApiDoc({ summary: 'List tenants', tag: 'Tenants', status: 200, response: Page(TenantView), query: pageQueryDoc })
  list(@Query(new PageQuery()) page: PageParams, @Call() ctx: CallContext) {
    return this.bus.request('musubi.directory.tenant.list.v1', page, ctx);
  }

  @Get(':tenantId')
  @Requires('tenant:read')
  @ApiDoc({ summary: 'Read a tenant', tag: 'Tenants', status: 200, response: TenantView })
  async get(@Param('tenantId', new UuidParam()) id: string, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<TenantViewT> {
    const tenant = await this.bus.request('musubi.directory.tenant.get.v1', { id }, { ...ctx, tenantId: id });
    reply.header('etag', etagOf(tenant));
    return tenant;
  }

  @Patch(':tenantId')
  @Requires('tenant:write')
  @ApiDoc({
    summary: "Change a tenant's name, time zone, locale or settings (limits: operator only); If-Match with the ETag read",
    tag: 'Tenants',
    status: 200,
    body: TenantUpdateBody,
    example: { displayName: 'Acme Holdings 株式会社', settings: { deletionRetentionDays: 14 } },
    response: TenantView,
    errors: [409, 412],
  })
  async update(
    @Param('tenantId', new UuidParam()) id: string,
    @Body(new SchemaPipe(TenantUpdateBody)) changes: TenantUpdateBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TenantViewT> {
    const version = expectedVersion(ifMatch);
    const tenant = await this.bus.request('musubi.directory.tenant.update.v1', { id, changes, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId: id });
    reply.header('etag', etagOf(tenant));
    return tenant;
  }

  @Post(':tenantId/suspend')
  @HttpCode(200)
  @OperatorOnly()
  @ApiDoc({ summary: 'Suspend a tenant: nobody of it signs in until it is resumed', tag: 'Tenants', status: 200, body: TenantLifecycleBody, example: { reason: 'contract change' }, response: TenantView, errors: [409, 412] })
  suspend(@Param('tenantId', new UuidParam()) id: string, @Body(new SchemaPipe(TenantLifecycleBody)) body: TenantLifecycleBody, @Headers('if-match') ifMatch: string | undefined, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.lifecycle('musubi.directory.tenant.suspend.v1', id, body, ifMatch, ctx, reply);
  }

  @Post(':tenantId/resume')
  @HttpCode(200)
  @OperatorOnly()
  @ApiDoc({ summary: 'Resume a suspended tenant', tag: 'Tenants', status: 200, body: TenantLifecycleBody, example: { reason: 'contract change' }, response: TenantView, errors: [409, 412] })
  resume(@Param('tenantId', new UuidParam()) id: string, @Body(new SchemaPipe(TenantLifecycleBody)) body: TenantLifecycleBody, @Headers('if-match') ifMatch: string | undefined, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.lifecycle('musubi.directory.tenant.resume.v1', id, body, ifMatch, ctx, reply);
  }

  @Post(':tenantId/terminate')
  @HttpCode(200)
  @OperatorOnly()
  @ApiDoc({ summary: 'Terminate a tenant, for good', tag: 'Tenants', status: 200, body: TenantLifecycleBody, example: { reason: 'contract change' }, response: TenantView, errors: [409, 412] })
  terminate(@Param('tenantId', new UuidParam()) id: string, @Body(new SchemaPipe(TenantLifecycleBody)) body: TenantLifecycleBody, @Headers('if-match') ifMatch: string | undefined, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.lifecycle('musubi.directory.tenant.terminate.v1', id, body, ifMatch, ctx, reply);
  }

  private async lifecycle(
    subject: 'musubi.directory.tenant.suspend.v1' | 'musubi.directory.tenant.resume.v1' | 'musubi.directory.tenant.terminate.v1',
    id: string,
    body: TenantLifecycleBody,
    ifMatch: string | undefined,
    ctx: CallContext,
    reply: FastifyReply,
  ): Promise<TenantViewT> {
    const version = expectedVersion(ifMatch);
    const tenant = await this.bus.request(subject, { id, ...body, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId: id });
    reply.header('etag', etagOf(tenant));
    return tenant;
  }
}
