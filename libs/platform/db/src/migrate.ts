import pg from 'pg';
import type { DataSource } from 'typeorm';
import { SCHEMA_NAME } from './data-source.js';

export interface ProvisionOptions {
  /** A role allowed to create roles and schemas (the platform's DBA role). */
  readonly adminUrl: string;
  /** The service's own URL: its user becomes the schema's owning role, with its password. */
  readonly serviceUrl: string;
  readonly schema: string;
}

/**
 * The privileged, idempotent step before migrations: the service's login role
 * (with the password from its own URL), CONNECT on the database, and the schema
 * owned by that role. Other services' roles get nothing on it.
 */
export async function provisionSchema(opts: ProvisionOptions): Promise<void> {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name ${opts.schema}`);
  const service = new URL(opts.serviceUrl);
  const role = decodeURIComponent(service.username);
  const password = decodeURIComponent(service.password);
  if (!role) throw new Error('the service URL names no user (role)');
  const client = new pg.Client({ connectionString: opts.adminUrl, application_name: `musubi-provision-${opts.schema}` });
  await client.connect();
  try {
    // CREATE ROLE is not safe to race; several services provisioning at once take turns.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['musubi:provision']);
    const ident = client.escapeIdentifier(role);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    const pw = password ? ` PASSWORD ${client.escapeLiteral(password)}` : '';
    if (exists.rowCount === 0) {
      await client.query(`CREATE ROLE ${ident} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE${pw}`);
    } else if (password) {
      await client.query(`ALTER ROLE ${ident}${pw}`);
    }
    const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(db)} TO ${ident}`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(opts.schema)} AUTHORIZATION ${ident}`);
    // A schema created earlier by someone else still ends up with the service's role.
    await client.query(`ALTER SCHEMA ${client.escapeIdentifier(opts.schema)} OWNER TO ${ident}`);
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['musubi:provision']);
  } finally {
    await client.end();
  }
}

export interface RuntimeRoleOptions {
  /** When given, the login role is created (or its password updated) and may connect; without it, a DBA made the role. */
  readonly adminUrl?: string | undefined;
  /** The schema owner's URL: it grants the runtime role what the schema's own `grant_runtime` says. */
  readonly ownerUrl: string;
  /** The URL the service runs with: its user is the restricted runtime role. */
  readonly runtimeUrl: string;
  readonly schema: string;
}

/**
 * For a service that runs as a role other than its schema's owner (audit, which
 * may insert and read but never change what it stored): the runtime login role,
 * which owns nothing, and its grants. What it may do is decided by the schema
 * itself — a `<schema>.grant_runtime(role)` function its migrations define — so
 * this runs after migrating, every time, and grants stay in step with the tables.
 */
export async function provisionRuntimeRole(opts: RuntimeRoleOptions): Promise<void> {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name ${opts.schema}`);
  const runtime = new URL(opts.runtimeUrl);
  const role = decodeURIComponent(runtime.username);
  const password = decodeURIComponent(runtime.password);
  if (!role) throw new Error('the runtime URL names no user (role)');
  if (role === decodeURIComponent(new URL(opts.ownerUrl).username)) throw new Error('the runtime role must not be the schema owner');
  if (opts.adminUrl) {
    const admin = new pg.Client({ connectionString: opts.adminUrl, application_name: `musubi-provision-${opts.schema}-runtime` });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock(hashtext($1))', ['musubi:provision']);
      const ident = admin.escapeIdentifier(role);
      const found = await admin.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role]);
      const pw = password ? ` PASSWORD ${admin.escapeLiteral(password)}` : '';
      if (found.rowCount === 0) await admin.query(`CREATE ROLE ${ident} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT${pw}`);
      else if (found.rows[0]?.rolsuper) throw new Error(`the runtime role ${role} is a superuser`);
      else if (password) await admin.query(`ALTER ROLE ${ident}${pw}`);
      const db = (await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
      await admin.query(`GRANT CONNECT ON DATABASE ${admin.escapeIdentifier(db)} TO ${ident}`);
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', ['musubi:provision']);
    } finally {
      await admin.end();
    }
  }
  const owner = new pg.Client({ connectionString: opts.ownerUrl, application_name: `musubi-grant-${opts.schema}-runtime` });
  await owner.connect();
  try {
    await owner.query(`SELECT ${owner.escapeIdentifier(opts.schema)}.grant_runtime($1)`, [role]);
  } finally {
    await owner.end();
  }
}

/**
 * Runs the service's pending migrations as its own role, each in its own
 * transaction, while holding an advisory lock so replicas starting together
 * do not race. The lock lives on a connection of its own, outside the data
 * source's pool, so even a pool of one can migrate. Returns the names run.
 */
export async function runMigrations(dataSource: DataSource, schema: string, url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: `musubi-migrate-lock-${schema}` });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`musubi:migrate:${schema}`]);
    if (!dataSource.isInitialized) await dataSource.initialize();
    const found = await dataSource.query<unknown[]>('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    if (found.length === 0) {
      throw new Error(`schema "${schema}" does not exist: run the migrate command with DATABASE_ADMIN_URL set, so it can create the role and schema`);
    }
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await lock.end().catch(() => undefined);
  }
}

/** At boot: a service never runs against a schema older than its code. */
export async function assertMigrated(dataSource: DataSource, service: string): Promise<void> {
  if (await dataSource.showMigrations()) {
    throw new Error(`the ${service} schema has pending migrations: run "npm run migrate" (or this service's "migrate" command) first`);
  }
}
