export * from './claims.js';
export * from './config.js';
export * from './denylist.js';
export * from './jwks.js';
export * from './middleware.js';
export * from './signing-keys.js';
export * from './verification-cache.js';
export * from './verifier.js';
