import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainRegisterBody, DomainView, Page, type CallContext, type DomainView as DomainViewT } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf } from './etag.js';
import { PageQuery, UuidParam, pageQueryDoc, type PageParams } from './params.js';

/** /api/v1/tenants/{tenantId}/domains: the tenant's own domains and their DNS proof. */
@Controller('api/v1/tenants/:tenantId/domains')
export class DomainsController {
  constructor(private readonly bus: BusClient) {}

  @Get()
  @Requires('domains:read')
  @ApiDoc({ summary: "List the tenant's domains", tag: 'Domains', status: 200, response: Page(DomainView), query: pageQueryDoc })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new PageQuery()) page: PageParams, @Call() ctx: CallContext) {
    return this.bus.request('musubi.directory.domain.list.v1', { tenantId, ...page }, { ...ctx, tenantId });
  }

  @Post()
  @HttpCode(201)
  @Requires('domains:write')
  @ApiDoc({
    summary: 'Register a domain; publish the TXT record in `challenge`, then verify it',
    tag: 'Domains',
    status: 201,
    body: DomainRegisterBody,
    example: { name: 'acme.co.jp' },
    response: DomainView,
    errors: [409],
  })
  async register(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(DomainRegisterBody)) body: DomainRegisterBody,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DomainViewT> {
    const domain = await this.bus.request('musubi.directory.domain.register.v1', { ...body, tenantId }, { ...ctx, tenantId });
    reply.header('location', `/api/v1/tenants/${tenantId}/domains/${domain.id}`).header('etag', etagOf(domain));
    return domain;
  }

  @Get(':domainId')
  @Requires('domains:read')
  @ApiDoc({ summary: "Read one of the tenant's domains", tag: 'Domains', status: 200, response: DomainView })
  async get(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('domainId', new UuidParam()) domainId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DomainViewT> {
    const domain = await this.bus.request('musubi.directory.domain.get.v1', { tenantId, domainId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(domain));
    return domain;
  }

  /** 200 whatever the DNS says: `status` tells whether it is verified, `lastCheck` why not. */
  @Post(':domainId/verify')
  @HttpCode(200)
  @Requires('domains:write')
  @ApiDoc({
    summary: "Look the domain's TXT record up now: verified when found, otherwise it stays as it was and `lastCheck` says why",
    tag: 'Domains',
    status: 200,
    response: DomainView,
    errors: [409],
  })
  async verify(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('domainId', new UuidParam()) domainId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DomainViewT> {
    const domain = await this.bus.request('musubi.directory.domain.verify.v1', { tenantId, domainId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(domain));
    return domain;
  }

  @Delete(':domainId')
  @HttpCode(204)
  @Requires('domains:write')
  @ApiDoc({ summary: 'Remove a domain (refused while users have login IDs in it)', tag: 'Domains', status: 204, response: null, errors: [409] })
  async remove(@Param('tenantId', new UuidParam()) tenantId: string, @Param('domainId', new UuidParam()) domainId: string, @Call() ctx: CallContext): Promise<void> {
    await this.bus.request('musubi.directory.domain.remove.v1', { tenantId, domainId }, { ...ctx, tenantId });
  }
}
