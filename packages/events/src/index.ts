export * from './envelope.js';
export * from './outbox.js';
export * from './schemas.js';
export * from './uuid.js';
