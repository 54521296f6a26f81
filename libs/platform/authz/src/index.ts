export * from './authorize.js';
