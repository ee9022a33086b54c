export * from './prefix-set.js';
