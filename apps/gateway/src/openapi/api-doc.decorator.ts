import { SetMetadata } from '@nestjs/common';
import type { TSchema } from '@sinclair/typebox';

export interface ApiDocMeta {
  readonly summary: string;
  readonly tag: string;
  readonly status: number;
  readonly body?: TSchema;
  /** A route whose body is a file of this media type (e.g. text/csv), streamed, not JSON. */
  readonly upload?: string;
  /** A request body that works, shown in the document (and used by the e2e tests to call the route). */
  readonly example?: unknown;
  /** Null for responses without a body. */
  readonly response: TSchema | null;
  readonly query?: Readonly<Record<string, { schema: TSchema; description: string }>>;
  /** Extra error statuses worth listing beyond the common ones. */
  readonly errors?: readonly number[];
}

export const API_DOC_METADATA = 'musubi:api-doc';

/**
 * Documents an /api/v1 route; the OpenAPI document is generated from these and
 * from the route's access rule (`@OperatorOnly`/`@Requires`), so it cannot drift.
 */
export const ApiDoc = (meta: ApiDocMeta) => SetMetadata(API_DOC_METADATA, meta);
