export * from './data-source.js';
export * from './embedded.js';
export { MIGRATIONS } from './migrations/index.js';
export { CREDENTIALS_CHANNEL } from './migrations/1764900000000-credential-notify.js';
