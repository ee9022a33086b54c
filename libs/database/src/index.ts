export * from './data-source.js';
export * from './embedded.js';
export { MIGRATIONS } from './migrations/index.js';
