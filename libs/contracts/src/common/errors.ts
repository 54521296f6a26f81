/**
 * Domain error codes: the only way a service tells a caller what went wrong.
 * The gateway maps each code to HTTP, OAuth, SAML or SCIM in one place.
 */
export const ERROR_CODES = {
  validation_failed: 'The request is malformed or a field is invalid.',
  unauthenticated: 'No valid credentials were presented.',
  forbidden: 'The caller may not do this.',
  not_found: 'The resource does not exist or is not visible to the caller.',
  conflict: 'The request conflicts with the current state.',
  tenant_slug_taken: 'Another tenant already uses this slug.',
  login_id_taken: 'Another user of this tenant already uses this login ID.',
  domain_claimed: 'Another tenant has already proved it owns this domain.',
  group_cycle: 'This membership would make a group contain itself.',
  read_only: 'This resource is managed elsewhere (e.g. a directory sync) and cannot be changed here.',
  precondition_failed: 'The resource changed since it was read (If-Match).',
  limit_exceeded: 'A limit of the tenant or of the platform would be exceeded.',
  payload_too_large: 'The request body (an uploaded file) is larger than this endpoint accepts.',
  unsupported_media_type: 'The request body is not of a media type this endpoint accepts.',
  rate_limited: 'Too many requests; try again later.',
  service_unavailable: 'A service needed for this request is not available.',
  internal: 'An internal error occurred.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);

/** One problem with one field: `pointer` is a JSON Pointer (RFC 6901) into the payload. */
export interface ErrorDetail {
  readonly pointer: string;
  readonly detail: string;
}

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: readonly ErrorDetail[];
}

/** Every reply on the bus is one of these. */
export type ReplyEnvelope<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: ErrorBody };
