import { randomUUID } from 'node:crypto';
import { CONTEXT_HEADERS, Caller, type CallContext } from '@musubi/contracts';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { DomainError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const newRequestId = (): string => randomUUID();

export const isValidRequestId = (value: string): boolean => REQUEST_ID.test(value);

export function encodeContext(ctx: CallContext): MsgHdrs {
  const h = natsHeaders();
  h.set(CONTEXT_HEADERS.requestId, ctx.requestId);
  if (ctx.tenantId) h.set(CONTEXT_HEADERS.tenantId, ctx.tenantId);
  h.set(CONTEXT_HEADERS.caller, JSON.stringify(ctx.caller));
  return h;
}

/**
 * Reads the call context from an inbound message. A missing request id is
 * replaced (so logs still correlate from here on); a malformed tenant id or
 * caller is refused, because authorization decisions rest on them.
 */
export function decodeContext(h: MsgHdrs | undefined): CallContext {
  const rawRequestId = h?.get(CONTEXT_HEADERS.requestId) ?? '';
  const requestId = REQUEST_ID.test(rawRequestId) ? rawRequestId : newRequestId();
  const rawTenant = h?.get(CONTEXT_HEADERS.tenantId) ?? '';
  if (rawTenant !== '' && !UUID.test(rawTenant)) {
    throw new DomainError('validation_failed', 'The tenant header is malformed.', [
      { pointer: `/headers/${CONTEXT_HEADERS.tenantId}`, detail: 'must be a UUID' },
    ]);
  }
  const rawCaller = h?.get(CONTEXT_HEADERS.caller) ?? '';
  let caller: unknown = { kind: 'anonymous' };
  if (rawCaller !== '') {
    try {
      caller = JSON.parse(rawCaller);
    } catch {
      caller = undefined;
    }
  }
  const checked = validate(Caller, caller);
  if (!checked.ok) {
    throw new DomainError('validation_failed', 'The caller header is malformed.', [
      { pointer: `/headers/${CONTEXT_HEADERS.caller}`, detail: 'must describe a known kind of caller' },
    ]);
  }
  return { requestId, tenantId: rawTenant === '' ? null : rawTenant.toLowerCase(), caller: checked.value };
}
