export * from './claims.js';
export * from './receipt.js';
