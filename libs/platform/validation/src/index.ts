export * from './schema-validator.js';
