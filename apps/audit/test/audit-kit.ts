import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { streamNameOf, type Caller, type EventEnvelope, type ServiceName } from '@musubi/contracts';
import { ensureStream, uuidv7 } from '@musubi/platform/bus';
import { provisionRuntimeRole } from '@musubi/platform/db';
import { waitFor, type Kit } from '@musubi/platform/testing';

/** The Ed25519 key the tests' audit signs with (PKCS#8 PEM), and its public half. */
export function signingKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * The restricted role audit runs as, next to the schema's owner (the kit's role
 * for `audit`), provisioned exactly as the migrate command does it.
 */
export async function auditRuntimeUrl(kit: Kit): Promise<string> {
  const u = new URL(kit.db.urlFor('audit'));
  u.username = 'musubi_t_audit_rt';
  u.password = 'musubi-test-rt';
  await provisionRuntimeRole({ adminUrl: kit.db.adminUrl, ownerUrl: kit.db.urlFor('audit'), runtimeUrl: u.toString(), schema: 'audit' });
  return u.toString();
}

/** Runs statements as one role (its own connection), returning rows or the Postgres error. */
export async function asRole(url: string, text: string, params: unknown[] = []): Promise<{ rows: Record<string, unknown>[]; error: { code: string; message: string } | null }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return { rows: (await c.query(text, params)).rows as Record<string, unknown>[], error: null };
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { rows: [], error: { code: e.code ?? '', message: e.message } };
  } finally {
    await c.end();
  }
}

export interface LoginOpts {
  readonly ok: boolean;
  readonly userId: string | null;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly method?: 'pwd' | 'temp_pwd';
  readonly at?: Date;
}

/** A sign-in event exactly as authn emits it. */
export function loginEvent(tenantId: string, o: LoginOpts): EventEnvelope {
  const actor: Caller = o.ok && o.userId ? { kind: 'user', userId: o.userId, tenantId, roles: [] } : { kind: 'anonymous' };
  const common = { id: uuidv7(), occurredAt: (o.at ?? new Date()).toISOString(), tenantId, requestId: randomUUID(), actor };
  const ip = o.ip ?? '203.0.113.10';
  const userAgent = o.userAgent ?? 'Mozilla/5.0 (Windows NT 10.0) Chrome/130.0.0.0';
  return o.ok
    ? { ...common, subject: 'musubi.authn.login.succeeded.v1', payload: { userId: o.userId, loginId: 'taro@example.jp', method: o.method ?? 'pwd', ip, userAgent } }
    : { ...common, subject: 'musubi.authn.login.failed.v1', payload: { loginId: 'taro@example.jp', userId: o.userId, ip, userAgent } };
}

/**
 * Publishes events to their producer's stream (as its outbox relay would, with
 * `Nats-Msg-Id` = event id unless another id is given) and waits until audit's
 * durable consumer acknowledged them all.
 */
export async function publishAndWait(kit: Kit, owner: ServiceName, events: readonly EventEnvelope[], msgId: (e: EventEnvelope) => string = (e) => e.id): Promise<void> {
  await ensureStream(kit.jsm, owner, { replicas: 1 });
  const js = jetstream(kit.nc);
  let last = 0;
  for (const e of events) last = (await js.publish(e.subject, JSON.stringify(e), { msgID: msgId(e) })).seq;
  await waitFor(
    `audit to acknowledge ${owner} stream sequence ${last}`,
    async () => {
      const info = await kit.jsm.consumers.info(streamNameOf(owner), 'audit');
      return info.ack_floor.stream_seq >= last && info.num_ack_pending === 0;
    },
    30_000,
  );
}
