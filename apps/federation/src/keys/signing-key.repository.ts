import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SigningAlg } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';
import type { KeySchedule } from './rotation.js';

export interface StoredKey extends KeySchedule {
  readonly tenantId: string;
  readonly publicJwk: Record<string, unknown>;
  /** The private JWK, sealed (AES-256-GCM). */
  readonly sealedPrivate: Buffer;
  readonly createdAt: Date;
}

interface Row {
  kid: string;
  tenant_id: string;
  alg: SigningAlg;
  public_jwk: Record<string, unknown>;
  private_key: Buffer;
  not_before: Date;
  not_after: Date;
  expires_at: Date;
  created_at: Date;
}

const toKey = (r: Row): StoredKey => ({
  kid: r.kid,
  tenantId: r.tenant_id,
  alg: r.alg,
  publicJwk: r.public_jwk,
  sealedPrivate: r.private_key,
  notBefore: r.not_before,
  notAfter: r.not_after,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
});

const COLUMNS = 'kid, tenant_id, alg, public_jwk, private_key, not_before, not_after, expires_at, created_at';

@Injectable()
export class SigningKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Serialises key scheduling per tenant (across replicas) for the rest of the transaction. */
  async lockTenant(tx: Tx, tenantId: string): Promise<void> {
    await runSql(this.dataSource, tx, "SELECT pg_advisory_xact_lock(hashtextextended('federation.signing_keys:' || $1, 0))", [tenantId]);
  }

  async listLive(tenantId: string, now: Date, tx?: Tx): Promise<StoredKey[]> {
    const rows = await runSql<Row>(this.dataSource, tx, `SELECT ${COLUMNS} FROM signing_keys WHERE tenant_id = $1 AND expires_at > $2 ORDER BY not_before`, [tenantId, now]);
    return rows.map(toKey);
  }

  async insert(tx: Tx, k: StoredKey): Promise<void> {
    await runSql(this.dataSource, tx, `INSERT INTO signing_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      k.kid,
      k.tenantId,
      k.alg,
      JSON.stringify(k.publicJwk),
      k.sealedPrivate,
      k.notBefore,
      k.notAfter,
      k.expiresAt,
      k.createdAt,
    ]);
  }

  async reschedule(tx: Tx, kid: string, notAfter: Date, expiresAt: Date): Promise<void> {
    await runSql(this.dataSource, tx, 'UPDATE signing_keys SET not_after = $2, expires_at = $3 WHERE kid = $1', [kid, notAfter, expiresAt]);
  }

  async delete(tx: Tx, kids: readonly string[]): Promise<void> {
    if (kids.length > 0) await runSql(this.dataSource, tx, 'DELETE FROM signing_keys WHERE kid = ANY($1)', [kids]);
  }

  /** Keys whose every token has expired: nothing can need them again. */
  async purgeExpired(now: Date): Promise<number> {
    const rows = await runSql<{ kid: string }>(this.dataSource, undefined, 'DELETE FROM signing_keys WHERE expires_at <= $1 RETURNING kid', [now]);
    return rows.length;
  }
}
