export * from './platform.module.js';
export * from './start-service.js';
export * from './main.js';
export * from './periodic.js';
