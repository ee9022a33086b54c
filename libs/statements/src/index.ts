export * from './claims.js';
export * from './receipt.js';
export * from './webhook.js';
