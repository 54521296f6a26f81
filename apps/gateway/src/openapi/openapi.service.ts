import { Inject, Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CONFIG } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { AUTH_METADATA, type Access } from '../auth/auth.decorator.js';
import { API_DOC_METADATA, type ApiDocMeta } from './api-doc.decorator.js';

export interface DocumentedRoute {
  readonly method: string;
  readonly path: string;
  readonly doc: ApiDocMeta;
  readonly access: Access | undefined;
}

const joinPath = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const problemRef = { $ref: '#/components/schemas/Problem' };

/** Builds the OpenAPI 3.1 document of the admin API from the `@ApiDoc` routes themselves. */
@Injectable()
export class OpenApiService {
  private document: Record<string, unknown> | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  routes(): DocumentedRoute[] {
    const out: DocumentedRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      const base = this.reflector.get<string | undefined>(PATH_METADATA, instance.constructor) ?? '';
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const handler = (proto as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const doc = this.reflector.get<ApiDocMeta | undefined>(API_DOC_METADATA, handler);
        if (!doc) continue;
        const sub = this.reflector.get<string | undefined>(PATH_METADATA, handler) ?? '';
        const method = RequestMethod[this.reflector.get<RequestMethod>(METHOD_METADATA, handler)].toLowerCase();
        const access = this.reflector.get<Access | undefined>(AUTH_METADATA, handler);
        out.push({ method, path: toOpenApiPath(joinPath(base, sub)), doc, access });
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }

  build(): Record<string, unknown> {
    if (this.document) return this.document;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes()) {
      const params = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string', format: 'uuid' },
      }));
      const query = Object.entries(r.doc.query ?? {}).map(([name, q]) => ({ name, in: 'query', required: false, description: q.description, schema: q.schema }));
      const responses: Record<string, unknown> = {
        [String(r.doc.status)]: r.doc.response
          ? { description: 'Success', content: { 'application/json': { schema: r.doc.response } } }
          : { description: 'Success, no body' },
      };
      // Every route with a body can refuse it as too large (413) or not JSON (415).
      const errors = new Set<number>([400, ...(r.access ? [401, 403] : []), ...(r.path.includes('{') ? [404] : []), ...(r.doc.body || r.doc.upload ? [413, 415] : []), 503, ...(r.doc.errors ?? [])]);
      for (const status of [...errors].sort()) {
        responses[String(status)] = { description: `Error (${status})`, content: { 'application/problem+json': { schema: problemRef } } };
      }
      paths[r.path] ??= {};
      paths[r.path]![r.method] = {
        summary: r.doc.summary,
        tags: [r.doc.tag],
        operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
        ...(r.access
          ? 'operatorOnly' in r.access
            ? { security: [{ operator: [] }], description: 'Platform operator only.' }
            : 'signedIn' in r.access
              ? { security: [{ operator: [] }, { session: [], csrf: [] }], description: 'Any signed-in user of the tenant (a session, not an API token), or the operator.' }
              : { security: [{ operator: [] }, { session: [], csrf: [] }], description: `Requires the \`${r.access.permission}\` permission in the tenant (operator, or a signed-in user whose roles grant it, or an API token with a scope covering it).` }
          : {}),
        parameters: [...params, ...query],
        ...(r.doc.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: r.doc.body, ...(r.doc.example !== undefined ? { example: r.doc.example } : {}) } } } }
          : r.doc.upload
            ? { requestBody: { required: true, content: { [r.doc.upload]: { schema: { type: 'string', contentMediaType: r.doc.upload } } } } }
            : {}),
        responses,
      };
    }
    this.document = {
      openapi: '3.1.0',
      info: {
        title: 'Musubi admin API',
        version: '1',
        description: 'Administration of tenants, their directory and their audit trail. Errors are RFC 9457 problem details.',
      },
      servers: [{ url: this.config.PUBLIC_URL }],
      paths,
      components: {
        securitySchemes: {
          operator: { type: 'http', scheme: 'bearer', description: "The platform operator's token (MUSUBI_OPERATOR_TOKEN)" },
          session: { type: 'apiKey', in: 'cookie', name: '__Host-musubi-session', description: "A signed-in user's hosted-login session (admin console)" },
          csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'With a session, unsafe methods need the value of the __Host-musubi-csrf cookie here' },
        },
        schemas: {
          Problem: {
            type: 'object',
            required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
            properties: {
              type: { type: 'string', format: 'uri' },
              title: { type: 'string' },
              status: { type: 'integer' },
              detail: { type: 'string' },
              code: { type: 'string', description: 'Stable machine-readable error code' },
              requestId: { type: 'string' },
              errors: {
                type: 'array',
                items: { type: 'object', properties: { pointer: { type: 'string', description: 'JSON Pointer (RFC 6901) into the request' }, detail: { type: 'string' } } },
              },
            },
          },
        },
      },
    };
    return this.document;
  }
}
