import { Readable } from 'node:stream';
import { Body, Controller, Get, Param, Put, Query, Res, type PipeTransform } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import iconv from 'iconv-lite';
import {
  AuditCheckpointListQuery,
  AuditCheckpointPage,
  AuditEventListQuery,
  AuditEventPage,
  AuditExportQuery,
  AuditFilterFields,
  AuditSettingsUpdateBody,
  AuditSettingsView,
  AuditSigningKeyList,
  AuditVerificationReport,
  AuditVerifyQuery,
  LoginHistory,
  type AuditExportPage,
  type CallContext,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { validationError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';
import { OperatorOnly, Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { UuidParam, pageQueryDoc } from './params.js';

/** Query parameters that are numbers on the wire contract (query strings are text). */
const NUMERIC = new Set(['limit', 'fromSeq', 'toSeq']);

/** A query string checked against a contract schema; unknown, repeated or bad parameters are 400 at `/query/<name>`. */
class AuditQueryPipe<S extends TSchema> implements PipeTransform<Record<string, unknown>, Static<S>> {
  constructor(private readonly schema: S) {}

  transform(q: Record<string, unknown>): Static<S> {
    const input: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(q ?? {})) input[k] = NUMERIC.has(k) && typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v;
    const checked = validate(this.schema, input);
    if (!checked.ok) throw validationError(checked.details.map((d) => ({ ...d, pointer: `/query${d.pointer}` })), 'The query string is invalid.');
    return checked.value;
  }
}

const doc = (fields: Readonly<Record<string, TSchema>>) =>
  Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, { schema, description: (schema as { description?: string }).description ?? name }]));
const filterDoc = doc(AuditFilterFields);

/**
 * A tenant's audit trail: search, export (streamed), verification of its hash
 * chain, the signed checkpoints and the keys that sign them, its retention, and
 * a user's sign-in history. audit enforces who may read (a tenant's
 * administrators and auditors: their tenant only) and records the operator's
 * reads in the tenant's own trail.
 */
@Controller('api/v1/tenants/:tenantId')
export class AuditEventsController {
  constructor(private readonly bus: BusClient) {}

  /** audit keeps events, not tenants: the directory says whether the tenant exists (404 otherwise). */
  private async tenantExists(tenantId: string, ctx: CallContext): Promise<void> {
    await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, ctx);
  }

  @Get('audit-events')
  @Requires('audit:read')
  @ApiDoc({
    summary: "Search a tenant's audit trail, newest first (time range, event type, category, actor, user, result, IP or CIDR block, application)",
    tag: 'Audit',
    status: 200,
    response: AuditEventPage,
    query: { ...pageQueryDoc, ...filterDoc },
  })
  async list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new AuditQueryPipe(AuditEventListQuery)) query: AuditEventListQuery, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    return this.bus.request('musubi.audit.event.list.v1', { ...query, tenantId }, scoped);
  }

  @Get('audit-events/export')
  @Requires('audit:read')
  @ApiDoc({
    summary:
      'Export a tenant\'s audit trail as a file, streamed: CSV (UTF-8 with BOM, or Shift_JIS) or JSON Lines (with the chain hashes and signed checkpoints: verify it offline with `node offline-verifier.js file.jsonl --public-key key.pem`)',
    tag: 'Audit',
    status: 200,
    response: null,
    query: {
      format: { schema: AuditExportQuery.properties.format, description: 'csv or jsonl' },
      encoding: { schema: Type.Union([Type.Literal('utf-8'), Type.Literal('shift_jis')]), description: 'CSV only: utf-8 (with BOM, default) or shift_jis (Windows-31J)' },
      ...filterDoc,
    },
  })
  async export(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Query(new AuditQueryPipe(AuditExportQuery)) query: AuditExportQuery,
    @Call() ctx: CallContext,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    // The first page before any header: a refusal is still a problem+json answer.
    const first = await this.bus.request('musubi.audit.event.export.v1', { ...query, tenantId }, scoped);
    const shiftJis = query.format === 'csv' && query.encoding === 'shift_jis';
    const encode = (text: string): Buffer => (shiftJis ? iconv.encode(text, 'cp932') : Buffer.from(text, 'utf8'));
    const bus = this.bus;
    async function* pages(): AsyncGenerator<Buffer> {
      let page: AuditExportPage = first;
      for (;;) {
        if (page.text) yield encode(page.text);
        if (!page.nextCursor) return;
        page = await bus.request('musubi.audit.event.export.v1', { ...query, tenantId, cursor: page.nextCursor }, scoped);
      }
    }
    // A failure mid-way ends the stream early: a JSON Lines file then lacks its end line, and does not verify.
    await reply
      .header('content-type', first.contentType)
      .header('content-disposition', `attachment; filename="${first.fileName}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(pages()));
  }

  @Get('audit-verification')
  @Requires('audit:read')
  @ApiDoc({
    summary: "Verify a range of a tenant's hash chain (by sequence number or by when audit recorded it) against its signed checkpoints; names the first record that fails",
    tag: 'Audit',
    status: 200,
    response: AuditVerificationReport,
    query: doc(AuditVerifyQuery.properties),
  })
  async verify(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new AuditQueryPipe(AuditVerifyQuery)) query: AuditVerifyQuery, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    return this.bus.request('musubi.audit.chain.verify.v1', { ...query, tenantId }, scoped);
  }

  @Get('audit-checkpoints')
  @Requires('audit:read')
  @ApiDoc({ summary: "A tenant's signed checkpoints, newest first", tag: 'Audit', status: 200, response: AuditCheckpointPage, query: pageQueryDoc })
  checkpoints(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new AuditQueryPipe(AuditCheckpointListQuery)) query: AuditCheckpointListQuery, @Call() ctx: CallContext) {
    return this.bus.request('musubi.audit.checkpoint.list.v1', { ...query, tenantId }, { ...ctx, tenantId });
  }

  @Get('audit-signing-keys')
  @Requires('audit:read')
  @ApiDoc({ summary: 'The public keys that sign audit checkpoints: pin them to verify exports offline', tag: 'Audit', status: 200, response: AuditSigningKeyList })
  signingKeys(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.audit.signing-key.list.v1', { tenantId }, { ...ctx, tenantId });
  }

  @Get('audit-settings')
  @Requires('audit:read')
  @ApiDoc({ summary: "A tenant's audit retention and the time zone its trail is shown in", tag: 'Audit', status: 200, response: AuditSettingsView })
  async settings(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    return this.bus.request('musubi.audit.settings.get.v1', { tenantId }, scoped);
  }

  @Put('audit-settings')
  @OperatorOnly()
  @ApiDoc({
    summary: "Change a tenant's audit retention (days, 1-400) for records recorded from now on",
    tag: 'Audit',
    status: 200,
    body: AuditSettingsUpdateBody,
    example: { retentionDays: 365 },
    response: AuditSettingsView,
  })
  async updateSettings(@Param('tenantId', new UuidParam()) tenantId: string, @Body(new SchemaPipe(AuditSettingsUpdateBody)) body: AuditSettingsUpdateBody, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    return this.bus.request('musubi.audit.settings.update.v1', { tenantId, retentionDays: body.retentionDays }, scoped);
  }

  @Get('users/:userId/login-history')
  @Requires('audit:read')
  @ApiDoc({ summary: "A user's last 100 sign-ins, newest first, each marked when its device looks new", tag: 'Audit', status: 200, response: LoginHistory })
  async loginHistory(@Param('tenantId', new UuidParam()) tenantId: string, @Param('userId', new UuidParam()) userId: string, @Call() ctx: CallContext) {
    const scoped = { ...ctx, tenantId };
    await this.tenantExists(tenantId, scoped);
    return this.bus.request('musubi.audit.login-history.list.v1', { tenantId, userId }, scoped);
  }
}
