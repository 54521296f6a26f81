import { DataSource, type MigrationInterface, type EntitySchema } from 'typeorm';

// TypeORM's `entities` accepts classes or EntitySchema instances.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function | EntitySchema;
export type MigrationClass = new () => MigrationInterface;

export interface DataSourceOptions {
  readonly url: string;
  /** The service's own schema; also its search_path, so nothing resolves elsewhere. */
  readonly schema: string;
  readonly entities: readonly EntityClass[];
  readonly migrations: readonly MigrationClass[];
  readonly poolSize?: number;
  readonly applicationName: string;
}

export const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * A TypeORM data source bound to one schema. `synchronize` is never on and
 * migrations never run implicitly: `migrateService` runs them, under a lock.
 */
export function createDataSource(opts: DataSourceOptions): DataSource {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name ${opts.schema}`);
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: [...opts.entities],
    migrations: [...opts.migrations],
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: opts.applicationName,
    poolSize: opts.poolSize ?? 10,
    extra: {
      options: `-c search_path=${opts.schema}`,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      // Statements that hang (a lock held by a crashed peer, say) fail instead of pinning a connection forever.
      statement_timeout: 30000,
    },
  });
}
