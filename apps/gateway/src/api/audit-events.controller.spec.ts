import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_FILTER } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import iconv from 'iconv-lite';
import type { CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { createLogger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';
import { ProblemExceptionFilter } from '../http/exception.filter.js';
import { AuditEventsController } from './audit-events.controller.js';

// The export route alone on Fastify, the bus replaced by a stand-in serving pages:
// the file is the pages' text in order, encoded as asked, streamed.

const tenantId = '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0d';
const calls: Array<{ subject: string; payload: Record<string, unknown> }> = [];
const PAGES = ['\uFEFFoccurred_at,type\r\n', '2026-05-01T09:00:00.000+09:00,東京 ログイン\r\n', '2026-05-01T09:01:00.000+09:00,ｶﾅ ～\r\n'];

const bus = {
  async request(subject: string, payload: Record<string, unknown>, _ctx: CallContext): Promise<unknown> {
    calls.push({ subject, payload });
    if (subject === 'musubi.directory.tenant.get.v1') return { id: tenantId };
    const i = payload['cursor'] === undefined ? 0 : Number(payload['cursor']);
    const text = payload['encoding'] === 'shift_jis' && i === 0 ? PAGES[0]!.slice(1) : PAGES[i]!;
    return { text, records: i === 0 ? 0 : 1, nextCursor: i + 1 < PAGES.length ? String(i + 1) : null, contentType: 'text/csv; charset=utf-8', fileName: 'audit.csv' };
  },
};

let app: NestFastifyApplication;
let base: string;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    controllers: [AuditEventsController],
    providers: [
      { provide: BusClient, useValue: bus },
      { provide: LOGGER, useValue: createLogger({ service: 'gateway', level: 'silent' }) },
      { provide: APP_FILTER, useClass: ProblemExceptionFilter },
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
});

afterAll(async () => {
  await app?.close();
});

async function get(url: string): Promise<{ statusCode: number; headers: Headers; rawPayload: Buffer }> {
  const res = await fetch(`${base}${url}`);
  return { statusCode: res.status, headers: res.headers, rawPayload: Buffer.from(await res.arrayBuffer()) };
}

describe('GET /api/v1/tenants/{id}/audit-events/export', () => {
  it('streams every page of a UTF-8 CSV with its BOM, as an attachment', async () => {
    calls.length = 0;
    const res = await get(`/api/v1/tenants/${tenantId}/audit-events/export?format=csv&result=failure`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit.csv"');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(res.rawPayload.toString('utf8')).toBe(PAGES.join(''));
    const pages = calls.filter((c) => c.subject === 'musubi.audit.event.export.v1');
    expect(pages.map((c) => c.payload['cursor'])).toEqual([undefined, '1', '2']);
    for (const p of pages) expect(p.payload).toMatchObject({ tenantId, format: 'csv', result: 'failure' });
  });

  it('encodes Shift_JIS (Windows-31J) when asked', async () => {
    const res = await get(`/api/v1/tenants/${tenantId}/audit-events/export?format=csv&encoding=shift_jis`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.subarray(0, 3)).not.toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(iconv.decode(res.rawPayload, 'cp932')).toBe(PAGES.join('').slice(1));
    expect(res.rawPayload.includes(iconv.encode('東京', 'cp932'))).toBe(true);
  });

  it('refuses unknown or bad query parameters before calling anyone', async () => {
    calls.length = 0;
    for (const q of ['format=xml', 'format=csv&encoding=latin1', 'format=csv&bogus=1', 'format=csv&ip=1', 'format=csv&from=yesterday']) {
      const res = await get(`/api/v1/tenants/${tenantId}/audit-events/export?${q}`);
      expect({ q, status: res.statusCode, type: res.headers.get('content-type') }).toEqual({ q, status: 400, type: expect.stringContaining('application/problem+json') });
    }
    expect(calls).toEqual([]);
  });
});
