import { Foundation1764400000000 } from './1764400000000-foundation.js';

/** Every migration, in order. Listed explicitly so that compiled and test runs load the same set. */
export const MIGRATIONS = [Foundation1764400000000];
