export * from './data-source.js';
export * from './tx.js';
export * from './ddl.js';
export * from './migrate.js';
export * from './sql.js';
export * from './cursor.js';
