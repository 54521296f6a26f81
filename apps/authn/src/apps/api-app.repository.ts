import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ApiAppView, ApiTokenScope, AppRefreshTokenView } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';

interface AppRow {
  id: string;
  tenant_id: string;
  name: string;
  client_id: string;
  scopes: string[];
  created_by: string;
  created_at: Date;
  live: number;
}

interface TokenRow {
  id: string;
  tenant_id: string;
  app_id: string;
  name: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
  rotations: number;
  revoked_at: Date | null;
  revoked_reason: AppRefreshTokenView['revokedReason'];
}

export type RevokeReason = NonNullable<AppRefreshTokenView['revokedReason']>;

/** An application as its client authentication needs it. */
export interface AppSecret {
  readonly app: ApiAppView;
  readonly secretHash: Buffer;
}

/** A presented refresh secret and the family it belongs to, locked for the grant. */
export interface PresentedRefresh {
  readonly token: AppRefreshTokenView;
  readonly rotated: boolean;
}

export interface AccessTokenRow {
  readonly tenantId: string;
  readonly appId: string;
  readonly refreshTokenId: string;
  readonly createdBy: string;
  readonly scopes: ApiTokenScope[];
  readonly expiresAt: Date;
}

const LIVE_COUNT = `(SELECT count(*)::int FROM app_refresh_tokens r WHERE r.app_id = a.id AND r.revoked_at IS NULL AND r.expires_at > now())`;
const APP_COLUMNS = `a.id, a.tenant_id, a.name, a.client_id, a.scopes, a.created_by, a.created_at, ${LIVE_COUNT} AS live`;
const TOKEN_COLUMNS = 't.id, t.tenant_id, t.app_id, t.name, t.created_by, t.created_at, t.expires_at, t.last_used_at, t.rotations, t.revoked_at, t.revoked_reason';

const appView = (r: AppRow): ApiAppView => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  clientId: r.client_id,
  scopes: r.scopes as ApiTokenScope[],
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  liveRefreshTokens: r.live,
});

const tokenView = (r: TokenRow): AppRefreshTokenView => ({
  id: r.id,
  tenantId: r.tenant_id,
  applicationId: r.app_id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  rotations: r.rotations,
  revokedAt: r.revoked_at?.toISOString() ?? null,
  revokedReason: r.revoked_reason,
});

/** API applications, their refresh-token families and secrets, and their access tokens. Every query names its tenant or a secret digest. */
@Injectable()
export class ApiAppRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertApp(tx: Tx, app: ApiAppView, secretHash: Buffer): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO api_apps (id, tenant_id, name, client_id, secret_hash, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [app.id, app.tenantId, app.name, app.clientId, secretHash, app.scopes, app.createdBy, new Date(app.createdAt)],
    );
  }

  async listApps(tenantId: string): Promise<ApiAppView[]> {
    const rows = await runSql<AppRow>(this.dataSource, undefined, `SELECT ${APP_COLUMNS} FROM api_apps a WHERE a.tenant_id = $1 ORDER BY a.created_at DESC LIMIT 500`, [tenantId]);
    return rows.map(appView);
  }

  /**
   * With `tx`, the application row is locked first, until the transaction
   * ends, and only then read with its live count: a count read in the same
   * statement as the lock would be from before a concurrent issue committed
   * (READ COMMITTED re-checks only the locked row), letting both through.
   */
  async findApp(tenantId: string, id: string, tx?: Tx): Promise<ApiAppView | null> {
    if (tx) {
      const locked = await runSql<{ id: string }>(this.dataSource, tx, 'SELECT id FROM api_apps WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [tenantId, id]);
      if (locked.length === 0) return null;
    }
    const rows = await runSql<AppRow>(this.dataSource, tx, `SELECT ${APP_COLUMNS} FROM api_apps a WHERE a.tenant_id = $1 AND a.id = $2`, [tenantId, id]);
    return rows[0] ? appView(rows[0]) : null;
  }

  async byClientId(tenantId: string, clientId: string): Promise<AppSecret | null> {
    const rows = await runSql<AppRow & { secret_hash: Buffer }>(
      this.dataSource,
      undefined,
      `SELECT ${APP_COLUMNS}, a.secret_hash FROM api_apps a WHERE a.tenant_id = $1 AND a.client_id = $2`,
      [tenantId, clientId],
    );
    return rows[0] ? { app: appView(rows[0]), secretHash: rows[0].secret_hash } : null;
  }

  /** Deletes the application; its refresh tokens, secrets and access tokens go with it (ON DELETE CASCADE). */
  async deleteApp(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'DELETE FROM api_apps WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, id]);
    return rows.length > 0;
  }

  async liveTokens(tx: Tx | undefined, appId: string): Promise<AppRefreshTokenView[]> {
    const rows = await runSql<TokenRow>(
      this.dataSource,
      tx,
      `SELECT ${TOKEN_COLUMNS} FROM app_refresh_tokens t WHERE t.app_id = $1 AND t.revoked_at IS NULL AND t.expires_at > now()`,
      [appId],
    );
    return rows.map(tokenView);
  }

  /** Forgets the application's refresh tokens revoked or expired more than 90 days ago (listed until then), with their secrets. */
  async pruneDead(tx: Tx, appId: string): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      "DELETE FROM app_refresh_tokens WHERE app_id = $1 AND (revoked_at < now() - interval '90 days' OR expires_at < now() - interval '90 days')",
      [appId],
    );
  }

  async insertToken(tx: Tx, t: AppRefreshTokenView, secretHash: Buffer): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO app_refresh_tokens (id, tenant_id, app_id, name, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [t.id, t.tenantId, t.applicationId, t.name, t.createdBy, new Date(t.createdAt), new Date(t.expiresAt)],
    );
    await runSql(this.dataSource, tx, 'INSERT INTO app_refresh_secrets (secret_hash, token_id) VALUES ($1, $2)', [secretHash, t.id]);
  }

  async listTokens(tenantId: string, appId: string): Promise<AppRefreshTokenView[]> {
    const rows = await runSql<TokenRow>(
      this.dataSource,
      undefined,
      `SELECT ${TOKEN_COLUMNS} FROM app_refresh_tokens t WHERE t.tenant_id = $1 AND t.app_id = $2 ORDER BY t.created_at DESC LIMIT 500`,
      [tenantId, appId],
    );
    return rows.map(tokenView);
  }

  async findToken(tenantId: string, appId: string, id: string): Promise<AppRefreshTokenView | null> {
    const rows = await runSql<TokenRow>(this.dataSource, undefined, `SELECT ${TOKEN_COLUMNS} FROM app_refresh_tokens t WHERE t.tenant_id = $1 AND t.app_id = $2 AND t.id = $3`, [tenantId, appId, id]);
    return rows[0] ? tokenView(rows[0]) : null;
  }

  /** Revokes a live family and deletes the access tokens it gave; null when it was already revoked. */
  async revokeToken(tx: Tx, id: string, reason: RevokeReason): Promise<AppRefreshTokenView | null> {
    const rows = await runSql<TokenRow>(
      this.dataSource,
      tx,
      `UPDATE app_refresh_tokens t SET revoked_at = now(), revoked_reason = $2 WHERE t.id = $1 AND t.revoked_at IS NULL RETURNING ${TOKEN_COLUMNS}`,
      [id, reason],
    );
    await runSql(this.dataSource, tx, 'DELETE FROM app_access_tokens WHERE refresh_token_id = $1', [id]);
    return rows[0] ? tokenView(rows[0]) : null;
  }

  /** The family of a presented refresh secret, locked against a concurrent grant with the same one. */
  async presented(tx: Tx, secretHash: Buffer): Promise<PresentedRefresh | null> {
    const rows = await runSql<TokenRow & { rotated_at: Date | null }>(
      this.dataSource,
      tx,
      `SELECT ${TOKEN_COLUMNS}, s.rotated_at FROM app_refresh_secrets s JOIN app_refresh_tokens t ON t.id = s.token_id WHERE s.secret_hash = $1 FOR UPDATE OF t, s`,
      [secretHash],
    );
    const r = rows[0];
    return r ? { token: tokenView(r), rotated: r.rotated_at !== null } : null;
  }

  /**
   * Retires the presented secret and makes `next` the family's current one.
   * Secrets retired more than 30 days ago are forgotten here: a family
   * rotating every few minutes would otherwise keep thousands a day. One of
   * those presented again is refused as unknown (no longer as reuse).
   */
  async rotate(tx: Tx, tokenId: string, presented: Buffer, next: Buffer): Promise<void> {
    await runSql(this.dataSource, tx, "DELETE FROM app_refresh_secrets WHERE token_id = $1 AND rotated_at < now() - interval '30 days'", [tokenId]);
    await runSql(this.dataSource, tx, 'UPDATE app_refresh_secrets SET rotated_at = now() WHERE secret_hash = $1', [presented]);
    await runSql(this.dataSource, tx, 'INSERT INTO app_refresh_secrets (secret_hash, token_id) VALUES ($1, $2)', [next, tokenId]);
    await runSql(this.dataSource, tx, 'UPDATE app_refresh_tokens SET rotations = rotations + 1, last_used_at = now() WHERE id = $1', [tokenId]);
  }

  /** Stores an access token and drops the application's expired ones. */
  async insertAccess(tx: Tx, tokenHash: Buffer, a: Omit<AccessTokenRow, 'createdBy'>): Promise<void> {
    await runSql(this.dataSource, tx, 'DELETE FROM app_access_tokens WHERE app_id = $1 AND expires_at < now()', [a.appId]);
    await runSql(
      this.dataSource,
      tx,
      'INSERT INTO app_access_tokens (token_hash, tenant_id, app_id, refresh_token_id, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [tokenHash, a.tenantId, a.appId, a.refreshTokenId, a.scopes, a.expiresAt],
    );
  }

  /** A live access token (not expired; its family not revoked; its application not deleted). */
  async access(tokenHash: Buffer): Promise<AccessTokenRow | null> {
    const rows = await runSql<{ tenant_id: string; app_id: string; refresh_token_id: string; created_by: string; scopes: string[]; expires_at: Date }>(
      this.dataSource,
      undefined,
      `SELECT x.tenant_id, x.app_id, x.refresh_token_id, a.created_by, x.scopes, x.expires_at
         FROM app_access_tokens x
         JOIN api_apps a ON a.id = x.app_id
         JOIN app_refresh_tokens t ON t.id = x.refresh_token_id
        WHERE x.token_hash = $1 AND x.expires_at > now() AND t.revoked_at IS NULL`,
      [tokenHash],
    );
    const r = rows[0];
    return r ? { tenantId: r.tenant_id, appId: r.app_id, refreshTokenId: r.refresh_token_id, createdBy: r.created_by, scopes: r.scopes as ApiTokenScope[], expiresAt: r.expires_at } : null;
  }
}
