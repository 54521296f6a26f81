import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';

/** What a user allowed a client in one authorization; codes and refresh tokens belong to it. */
export interface Grant {
  readonly id: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  /** The session id as the client sees it (a hash of the browser session), for logout. */
  readonly sid: string | null;
  readonly authTime: Date;
  readonly amr: readonly string[];
  readonly acr: string | null;
  readonly nonce: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

export interface AuthorizationCode {
  readonly codeHash: Buffer;
  readonly tenantId: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string | null;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

export interface RefreshToken {
  readonly tokenHash: Buffer;
  readonly tenantId: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

export interface HeldRequest {
  readonly id: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly pushed: boolean;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly doneAt: Date | null;
}

interface GrantRow {
  id: string;
  tenant_id: string;
  client_id: string;
  user_id: string;
  scopes: string[];
  sid: string | null;
  auth_time: Date;
  amr: string[];
  acr: string | null;
  nonce: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const toGrant = (r: GrantRow): Grant => ({
  id: r.id,
  tenantId: r.tenant_id,
  clientId: r.client_id,
  userId: r.user_id,
  scopes: r.scopes,
  sid: r.sid,
  authTime: r.auth_time,
  amr: r.amr,
  acr: r.acr,
  nonce: r.nonce,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

const GRANT_COLUMNS = 'id, tenant_id, client_id, user_id, scopes, sid, auth_time, amr, acr, nonce, created_at, expires_at, revoked_at';

@Injectable()
export class GrantRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ---------------------------------------------------------------- grants

  async insertGrant(tx: Tx, g: Grant): Promise<void> {
    await runSql(this.dataSource, tx, `INSERT INTO grants (${GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
      g.id,
      g.tenantId,
      g.clientId,
      g.userId,
      JSON.stringify(g.scopes),
      g.sid,
      g.authTime,
      JSON.stringify(g.amr),
      g.acr,
      g.nonce,
      g.createdAt,
      g.expiresAt,
      g.revokedAt,
    ]);
  }

  async findGrant(tenantId: string, id: string, tx?: Tx): Promise<Grant | null> {
    const rows = await runSql<GrantRow>(this.dataSource, tx, `SELECT ${GRANT_COLUMNS} FROM grants WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
    return rows[0] ? toGrant(rows[0]) : null;
  }

  /** Revokes a grant (and so its codes, refresh tokens and access tokens); true when it was live. */
  async revokeGrant(tx: Tx | undefined, id: string, at: Date): Promise<boolean> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, at]);
    return rows.length > 0;
  }

  async revokeAllOfClient(tx: Tx, clientId: string, at: Date): Promise<string[]> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'UPDATE grants SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL RETURNING id', [clientId, at]);
    return rows.map((r) => r.id);
  }

  /** Revokes every live grant of a browser session; returns them. */
  async revokeBySid(tx: Tx, tenantId: string, sid: string, at: Date): Promise<Grant[]> {
    const rows = await runSql<GrantRow>(
      this.dataSource,
      tx,
      `UPDATE grants SET revoked_at = $3 WHERE tenant_id = $1 AND sid = $2 AND revoked_at IS NULL RETURNING ${GRANT_COLUMNS}`,
      [tenantId, sid, at],
    );
    return rows.map(toGrant);
  }

  /** Whether an access token is revoked: by its own jti, or through its grant (Postgres; ChangeFeed answers first). */
  async isRevoked(jti: string, grantId: string | null): Promise<boolean> {
    const rows = await runSql<{ revoked: boolean }>(
      this.dataSource,
      undefined,
      'SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) OR EXISTS (SELECT 1 FROM grants WHERE id = $2 AND revoked_at IS NOT NULL) AS revoked',
      [jti, grantId],
    );
    return rows[0]?.revoked ?? true;
  }

  async revokeAccessToken(tx: Tx, tenantId: string, jti: string, expiresAt: Date): Promise<void> {
    await runSql(this.dataSource, tx, 'INSERT INTO revoked_tokens (jti, tenant_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING', [jti, tenantId, expiresAt]);
  }

  // ---------------------------------------------------------------- codes

  async insertCode(tx: Tx, c: AuthorizationCode): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO authorization_codes (code_hash, tenant_id, grant_id, client_id, redirect_uri, code_challenge, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [c.codeHash, c.tenantId, c.grantId, c.clientId, c.redirectUri, c.codeChallenge, c.expiresAt, c.usedAt],
    );
  }

  /** Locks and reads a code; the caller marks it used in the same transaction. */
  async lockCode(tx: Tx, tenantId: string, codeHash: Buffer): Promise<AuthorizationCode | null> {
    const rows = await runSql<{
      code_hash: Buffer;
      tenant_id: string;
      grant_id: string;
      client_id: string;
      redirect_uri: string;
      code_challenge: string | null;
      expires_at: Date;
      used_at: Date | null;
    }>(
      this.dataSource,
      tx,
      'SELECT code_hash, tenant_id, grant_id, client_id, redirect_uri, code_challenge, expires_at, used_at FROM authorization_codes WHERE code_hash = $1 AND tenant_id = $2 FOR UPDATE',
      [codeHash, tenantId],
    );
    const r = rows[0];
    return r
      ? { codeHash: r.code_hash, tenantId: r.tenant_id, grantId: r.grant_id, clientId: r.client_id, redirectUri: r.redirect_uri, codeChallenge: r.code_challenge, expiresAt: r.expires_at, usedAt: r.used_at }
      : null;
  }

  async markCodeUsed(tx: Tx, codeHash: Buffer, at: Date): Promise<void> {
    await runSql(this.dataSource, tx, 'UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1', [codeHash, at]);
  }

  // ---------------------------------------------------------------- refresh tokens

  async insertRefresh(tx: Tx, r: RefreshToken): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO refresh_tokens (token_hash, tenant_id, grant_id, client_id, scopes, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.tokenHash, r.tenantId, r.grantId, r.clientId, JSON.stringify(r.scopes), r.createdAt, r.expiresAt, r.usedAt],
    );
  }

  async lockRefresh(tx: Tx | undefined, tenantId: string, tokenHash: Buffer, lock = true): Promise<RefreshToken | null> {
    const rows = await runSql<{
      token_hash: Buffer;
      tenant_id: string;
      grant_id: string;
      client_id: string;
      scopes: string[];
      created_at: Date;
      expires_at: Date;
      used_at: Date | null;
    }>(
      this.dataSource,
      tx,
      `SELECT token_hash, tenant_id, grant_id, client_id, scopes, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1 AND tenant_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [tokenHash, tenantId],
    );
    const r = rows[0];
    return r
      ? { tokenHash: r.token_hash, tenantId: r.tenant_id, grantId: r.grant_id, clientId: r.client_id, scopes: r.scopes, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at }
      : null;
  }

  async markRefreshUsed(tx: Tx, tokenHash: Buffer, at: Date): Promise<void> {
    await runSql(this.dataSource, tx, 'UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, at]);
  }

  // ---------------------------------------------------------------- held authorization requests

  async insertRequest(r: HeldRequest): Promise<void> {
    await runSql(
      this.dataSource,
      undefined,
      'INSERT INTO authorization_requests (id, tenant_id, client_id, params, pushed, created_at, expires_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.id, r.tenantId, r.clientId, JSON.stringify(r.params), r.pushed, r.createdAt, r.expiresAt, r.doneAt],
    );
  }

  async findRequest(tenantId: string, id: string, tx?: Tx, lock = false): Promise<HeldRequest | null> {
    const rows = await runSql<{
      id: string;
      tenant_id: string;
      client_id: string;
      params: Record<string, string>;
      pushed: boolean;
      created_at: Date;
      expires_at: Date;
      done_at: Date | null;
    }>(
      this.dataSource,
      tx,
      `SELECT id, tenant_id, client_id, params, pushed, created_at, expires_at, done_at FROM authorization_requests WHERE id = $1 AND tenant_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, tenantId],
    );
    const r = rows[0];
    return r ? { id: r.id, tenantId: r.tenant_id, clientId: r.client_id, params: r.params, pushed: r.pushed, createdAt: r.created_at, expiresAt: r.expires_at, doneAt: r.done_at } : null;
  }

  /** A pushed request is used once: true when this call took it. */
  async takePushed(tenantId: string, id: string, at: Date): Promise<boolean> {
    const rows = await runSql<{ id: string }>(
      this.dataSource,
      undefined,
      'UPDATE authorization_requests SET done_at = $3 WHERE id = $1 AND tenant_id = $2 AND pushed AND done_at IS NULL AND expires_at > $3 RETURNING id',
      [id, tenantId, at],
    );
    return rows.length > 0;
  }

  async finishRequest(tx: Tx, id: string, at: Date): Promise<boolean> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'UPDATE authorization_requests SET done_at = $2 WHERE id = $1 AND done_at IS NULL RETURNING id', [id, at]);
    return rows.length > 0;
  }

  // ---------------------------------------------------------------- consents and assertion ids

  async consentedScopes(tenantId: string, userId: string, clientId: string): Promise<string[]> {
    const rows = await runSql<{ scopes: string[] }>(this.dataSource, undefined, 'SELECT scopes FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3', [
      tenantId,
      userId,
      clientId,
    ]);
    return rows[0]?.scopes ?? [];
  }

  async saveConsent(tx: Tx, tenantId: string, userId: string, clientId: string, scopes: readonly string[], at: Date): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO consents (tenant_id, user_id, client_id, scopes, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, updated_at = EXCLUDED.updated_at',
      [tenantId, userId, clientId, JSON.stringify(scopes), at],
    );
  }

  /** Records a client assertion's jti; false when it was seen before (a replay). */
  async recordAssertionId(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows = await runSql<{ jti: string }>(
      this.dataSource,
      undefined,
      'INSERT INTO client_assertion_ids (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING jti',
      [clientId, jti, expiresAt],
    );
    return rows.length > 0;
  }

  /** Rows nothing can use any more. */
  async purgeExpired(now: Date): Promise<void> {
    await runSql(this.dataSource, undefined, 'DELETE FROM revoked_tokens WHERE expires_at < $1', [now]);
    await runSql(this.dataSource, undefined, 'DELETE FROM client_assertion_ids WHERE expires_at < $1', [now]);
    await runSql(this.dataSource, undefined, "DELETE FROM authorization_requests WHERE expires_at < $1 - interval '1 hour'", [now]);
    await runSql(this.dataSource, undefined, "DELETE FROM grants WHERE expires_at < $1 - interval '1 day'", [now]);
  }
}
