import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDataSource, provisionSchema, runMigrations, type MigrationClass } from '@musubi/platform/db';

/** The Postgres role allowed to create databases and roles; `npm test` sets it (from the environment or the local server it found). */
export const adminUrl = (): string => process.env['MUSUBI_TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Test roles are apart from the dev fleet's (`musubi_<service>`), so tests never change a running fleet's passwords. */
export const testRoleOf = (schema: string): string => `musubi_t_${schema}`;
export const TEST_ROLE_PASSWORD = 'musubi-test';

export interface SchemaSpec {
  readonly schema: string;
  readonly migrations: readonly MigrationClass[];
}

export interface TestDatabase {
  readonly name: string;
  /** URL of the service role owning `schema` in this database. */
  urlFor(schema: string): string;
  readonly adminUrl: string;
  drop(): Promise<void>;
}

const withDb = (url: string, db: string) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

const roleUrl = (db: string, schema: string) => {
  const u = new URL(withDb(adminUrl(), db));
  u.username = testRoleOf(schema);
  u.password = TEST_ROLE_PASSWORD;
  return u.toString();
};

function templateName(specs: readonly SchemaSpec[]): string {
  const h = createHash('sha256');
  for (const s of specs) {
    h.update(s.schema);
    for (const m of s.migrations) h.update(m.name).update(String((m.prototype as { up: unknown }).up));
  }
  return `musubi_tpl_${h.digest('hex').slice(0, 16)}`;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl(), application_name: 'musubi-test-admin' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates (once per set of migrations) a migrated template database and returns its name. */
async function ensureTemplate(specs: readonly SchemaSpec[]): Promise<string> {
  const tpl = templateName(specs);
  await admin(async (c) => {
    await c.query('SELECT pg_advisory_lock(hashtext($1))', ['musubi:test-template']);
    try {
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [tpl]);
      if (exists.rowCount) return;
      const building = `${tpl}_building`;
      await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${building}`);
      for (const s of specs) {
        await provisionSchema({ adminUrl: withDb(adminUrl(), building), serviceUrl: roleUrl(building, s.schema), schema: s.schema });
        const ds = createDataSource({ url: roleUrl(building, s.schema), schema: s.schema, entities: [], migrations: s.migrations, poolSize: 1, applicationName: 'musubi-test-migrate' });
        try {
          await runMigrations(ds, s.schema, roleUrl(building, s.schema));
        } finally {
          if (ds.isInitialized) await ds.destroy();
        }
      }
      // Renamed only when complete, so a crash mid-way never leaves a half-migrated template behind.
      await c.query(`ALTER DATABASE ${building} RENAME TO ${tpl}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', ['musubi:test-template']);
    }
  });
  return tpl;
}

/**
 * A fresh database for one test file, cloned from a migrated template
 * (CREATE DATABASE … TEMPLATE): isolated from every other file and fast.
 */
export async function createTestDatabase(specs: readonly SchemaSpec[]): Promise<TestDatabase> {
  const tpl = await ensureTemplate(specs);
  const name = `musubi_t_${randomBytes(6).toString('hex')}`;
  await admin(async (c) => {
    // Cloning needs the template to have no other session; retry briefly if one is closing.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${tpl}`);
        return;
      } catch (err) {
        if (attempt > 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return {
    name,
    adminUrl: withDb(adminUrl(), name),
    urlFor: (schema) => roleUrl(name, schema),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
