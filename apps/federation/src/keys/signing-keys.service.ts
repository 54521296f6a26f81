import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { CallContext, SigningAlg, SigningKeyView } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { CONFIG } from '@musubi/platform/runtime';
import { parseEncryptionKey, type FederationConfig } from '../config/env.schema.js';
import { randomToken } from '../crypto/opaque-token.js';
import { SecretBox } from '../crypto/secret-box.js';
import { privateKeyFromJwk, publicKeyFromJwk } from './jws.js';
import { currentKey, manualRotation, plannedKeys, publishedKeys, type KeySchedule, type RotationPolicy } from './rotation.js';
import { ChangeFeed } from '../oauth/change-feed.js';
import { SigningKeyRepository, type StoredKey } from './signing-key.repository.js';

/** How long a tenant's key list is trusted before it is read again (changes through other replicas arrive by the change feed first). */
const CACHE_MS = 30_000;

export interface ActiveKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: KeyObject;
}

interface TenantKeys {
  readonly keys: readonly StoredKey[];
  readonly until: number;
}

const aad = (k: { tenantId: string; kid: string; alg: string }) => `federation.signing_keys/${k.tenantId}/${k.kid}/${k.alg}`;

/**
 * Each tenant's signing keys: made on first need (ES256, and RS256 for the
 * clients that ask for it), private parts sealed at rest, rotated on a
 * schedule with overlap (see rotation.ts), and cached in memory decrypted.
 */
@Injectable()
export class SigningKeysService {
  private readonly box: SecretBox;
  private readonly policy: RotationPolicy;
  private readonly tenants = new Map<string, TenantKeys>();
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly publicKeys = new Map<string, KeyObject>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly feed: ChangeFeed,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    // A key made or rotated through another replica shows in this one's JWKS as soon as it commits.
    feed.onKeysChanged((tenantId) => this.tenants.delete(tenantId));
    this.box = new SecretBox(parseEncryptionKey(config.OIDC_KEY_ENCRYPTION_KEY));
    this.policy = {
      lifetimeMs: config.OIDC_KEY_LIFETIME_DAYS * 86_400_000,
      publishAheadMs: config.OIDC_KEY_PUBLISH_AHEAD_SECONDS * 1000,
      maxTokenTtlMs: Math.max(config.OIDC_ACCESS_TOKEN_TTL_SECONDS, config.OIDC_ID_TOKEN_TTL_SECONDS) * 1000,
    };
  }

  private async keysOf(tenantId: string, fresh = false): Promise<readonly StoredKey[]> {
    const hit = this.tenants.get(tenantId);
    if (!fresh && hit && hit.until > Date.now()) return hit.keys;
    const keys = await this.repo.listLive(tenantId, new Date());
    if (this.tenants.size > 50_000) this.tenants.clear();
    this.tenants.set(tenantId, { keys, until: Date.now() + CACHE_MS });
    return keys;
  }

  private async makeKey(tenantId: string, alg: SigningAlg, window: Omit<KeySchedule, 'kid' | 'alg'>): Promise<StoredKey> {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const jwk = await exportJWK(privateKey);
    const kid = randomToken(16);
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    const meta = { tenantId, kid, alg };
    return {
      ...window,
      kid,
      alg,
      tenantId,
      publicJwk: { ...pub, kid, alg, use: 'sig' },
      sealedPrivate: this.box.seal(Buffer.from(JSON.stringify(jwk), 'utf8'), aad(meta)),
      createdAt: new Date(),
    };
  }

  /** Creates whatever the schedule lacks, under the tenant's lock; concurrent callers in this process share one run. */
  private ensure(tenantId: string, alg: SigningAlg): Promise<void> {
    const key = `${tenantId}/${alg}`;
    let run = this.pending.get(key);
    if (!run) {
      run = this.uow
        .run(async (tx) => {
          await this.repo.lockTenant(tx, tenantId);
          const now = new Date();
          const keys = (await this.repo.listLive(tenantId, now, tx)).filter((k) => k.alg === alg);
          const planned = plannedKeys(keys, now, this.policy);
          if (planned.length > 0) await this.feed.keysChanged(tx, tenantId);
          for (const window of planned) {
            const made = await this.makeKey(tenantId, alg, window);
            await this.repo.insert(tx, made);
            await this.outbox.append(tx, 'musubi.federation.signing-key.rotated.v1', { next: this.view(made, now), previous: null }, { tenantId, actor: { kind: 'service', service: 'federation' } });
          }
        })
        .then(() => this.keysOf(tenantId, true))
        .then(() => undefined)
        .finally(() => this.pending.delete(key));
      this.pending.set(key, run);
    }
    return run;
  }

  private privateOf(k: StoredKey): KeyObject {
    let key = this.privateKeys.get(k.kid);
    if (!key) {
      const jwk = JSON.parse(this.box.open(k.sealedPrivate, aad(k)).toString('utf8')) as Record<string, unknown>;
      key = privateKeyFromJwk(jwk);
      if (this.privateKeys.size > 10_000) this.privateKeys.clear();
      this.privateKeys.set(k.kid, key);
    }
    return key;
  }

  /** The key that signs for the tenant now, made or rotated first when the schedule asks. */
  async signingKey(tenantId: string, alg: SigningAlg): Promise<ActiveKey> {
    const now = new Date();
    let keys = (await this.keysOf(tenantId)).filter((k) => k.alg === alg);
    if (plannedKeys(keys, now, this.policy).length > 0) {
      await this.ensure(tenantId, alg);
      keys = (await this.keysOf(tenantId)).filter((k) => k.alg === alg);
    }
    const cur = currentKey(keys, new Date());
    if (!cur) throw new Error(`no ${alg} signing key for tenant ${tenantId}`);
    return { kid: cur.kid, alg: cur.alg, key: this.privateOf(cur) };
  }

  /** One of the tenant's published keys by kid (read again once when unknown: another replica may have made it). */
  async verificationKey(tenantId: string, kid: string): Promise<{ alg: SigningAlg; key: KeyObject } | null> {
    let k = (await this.keysOf(tenantId)).find((x) => x.kid === kid);
    if (!k) k = (await this.keysOf(tenantId, true)).find((x) => x.kid === kid);
    if (!k || k.expiresAt <= new Date()) return null;
    let key = this.publicKeys.get(k.kid);
    if (!key) {
      key = publicKeyFromJwk(k.publicJwk);
      if (this.publicKeys.size > 10_000) this.publicKeys.clear();
      this.publicKeys.set(k.kid, key);
    }
    return { alg: k.alg, key };
  }

  /** The JWK Set: every key made and not yet past its last token (the next one included). ES256 is made if missing. */
  async jwks(tenantId: string): Promise<{ keys: Array<Record<string, unknown>> }> {
    await this.signingKey(tenantId, 'ES256');
    const keys = publishedKeys(await this.keysOf(tenantId), new Date());
    return { keys: keys.map((k) => k.publicJwk) };
  }

  private view(k: KeySchedule, now: Date): SigningKeyView {
    const state = k.notBefore > now ? 'next' : k.notAfter > now ? 'active' : 'retiring';
    return { kid: k.kid, alg: k.alg, notBefore: k.notBefore.toISOString(), notAfter: k.notAfter.toISOString(), expiresAt: k.expiresAt.toISOString(), state };
  }

  async list(tenantId: string, ctx: CallContext): Promise<{ items: SigningKeyView[] }> {
    authorize(ctx, tenantId, 'apps:read');
    const now = new Date();
    return { items: publishedKeys(await this.keysOf(tenantId, true), now).map((k) => this.view(k, now)) };
  }

  async rotate(tenantId: string, alg: SigningAlg, ctx: CallContext): Promise<SigningKeyView> {
    authorize(ctx, tenantId, 'apps:write');
    await this.signingKey(tenantId, alg);
    const made = await this.uow.run(async (tx: Tx) => {
      await this.repo.lockTenant(tx, tenantId);
      const now = new Date();
      const keys = (await this.repo.listLive(tenantId, now, tx)).filter((k) => k.alg === alg);
      const plan = manualRotation(keys, now, this.policy);
      await this.repo.delete(tx, plan.drop);
      if (plan.shorten) await this.repo.reschedule(tx, plan.shorten.kid, plan.shorten.notAfter, plan.shorten.expiresAt);
      const next = await this.makeKey(tenantId, alg, plan.next);
      await this.repo.insert(tx, next);
      await this.feed.keysChanged(tx, tenantId);
      await this.outbox.append(tx, 'musubi.federation.signing-key.rotated.v1', { next: this.view(next, now), previous: plan.shorten ? this.view(plan.shorten, now) : null }, { tenantId });
      return this.view(next, now);
    });
    await this.keysOf(tenantId, true);
    return made;
  }
}
