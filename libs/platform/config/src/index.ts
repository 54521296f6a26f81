export * from './setting.js';
export * from './load.js';
export * from './common.js';
