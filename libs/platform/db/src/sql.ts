import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from './tx.js';

/** The pg objects behind TypeORM's Postgres driver (typed `any` there). */
interface PgDriver {
  readonly master: pg.Pool;
}
interface PgQueryRunner {
  connect(): Promise<pg.PoolClient>;
}

const names = new Map<string, string>();

/** A stable prepared-statement name per SQL text: Postgres parses and plans it once per connection. */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `q_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs one SQL statement in the given transaction, or on the pool, as a named
 * prepared statement. Repositories use this rather than the ORM: measured here
 * on a primary-key read, TypeORM's query builder spent ~600 µs of CPU building
 * and mapping the query, `manager.query()` ~200 µs, and a prepared statement on
 * the pg pool least of all, with Postgres skipping the parse and plan as well
 * (figures in bench/README.md). Prepared statements need session pooling (no
 * PgBouncer in transaction mode in front of the services).
 */
export async function runSql<Row>(dataSource: DataSource, tx: Tx | undefined, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  if (tx) return runSqlIn<Row>(tx, text, params);
  return (await poolOf(dataSource).query(prepared(text, params))).rows as Row[];
}

/** `runSql` inside a transaction (no data source needed). */
export async function runSqlIn<Row>(tx: Tx, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  const runner = managerOf(tx).queryRunner as unknown as PgQueryRunner | undefined;
  if (!runner) throw new Error('the transaction has no query runner');
  const client = await runner.connect();
  return (await client.query(prepared(text, params))).rows as Row[];
}

/** A named prepared statement for `pg` (parsed and planned once per connection). */
export function prepared(text: string, params: readonly unknown[] = []): pg.QueryConfig {
  return { name: statementName(text), text, values: [...params] };
}

/** The pg pool behind a TypeORM data source, for work that needs a bare connection (one round trip per statement, no ORM). */
export function poolOf(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as PgDriver).master;
}

/** Postgres error code and constraint of a failed statement, when it is one. */
export function pgError(err: unknown): { code: string; constraint?: string } | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; constraint?: unknown; driverError?: { code?: unknown; constraint?: unknown } };
  const src = typeof e.code === 'string' ? e : e.driverError;
  if (!src || typeof src.code !== 'string') return null;
  return typeof src.constraint === 'string' ? { code: src.code, constraint: src.constraint } : { code: src.code };
}
