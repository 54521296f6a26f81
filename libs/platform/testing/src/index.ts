export * from './ports.js';
export * from './servers.js';
export * from './database.js';
export * from './logger.js';
export * from './service-kit.js';
export * from './dns-server.js';
