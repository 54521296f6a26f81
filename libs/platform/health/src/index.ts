export * from './metrics.js';
export * from './health.js';
export * from './management-server.js';
export * from './indicators.js';
