export * from './infra.js';
export * from './fleet.js';
export * from './plan.js';
