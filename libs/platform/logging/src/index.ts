export * from './context.js';
export * from './logger.js';
