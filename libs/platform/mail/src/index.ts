export * from './settings.js';
export * from './transport.js';
export * from './dev-mail-sink.js';
