export * from './jwk.js';
export * from './token.js';
export * from './sealed-key.js';
export * from './statement.js';
