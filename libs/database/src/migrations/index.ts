import { Foundation1764400000000 } from './1764400000000-foundation.js';
import { Indicators1764500000000 } from './1764500000000-indicators.js';
import { ChangeFeed1764600000000 } from './1764600000000-change-feed.js';
import { AuditTree1764700000000 } from './1764700000000-audit-tree.js';
import { ScreeningStorage1764800000000 } from './1764800000000-screening-storage.js';
import { CredentialNotify1764900000000 } from './1764900000000-credential-notify.js';
import { FingerprintHashIndex1765000000000 } from './1765000000000-fingerprint-hash-index.js';
import { PerViewerState1765100000000 } from './1765100000000-per-viewer-state.js';
import { Categories1765200000000 } from './1765200000000-categories.js';
import { Webhooks1765300000000 } from './1765300000000-webhooks.js';

/** Every migration, in order. Listed explicitly so that compiled and test runs load the same set. */
export const MIGRATIONS = [
  Foundation1764400000000,
  Indicators1764500000000,
  ChangeFeed1764600000000,
  AuditTree1764700000000,
  ScreeningStorage1764800000000,
  CredentialNotify1764900000000,
  FingerprintHashIndex1765000000000,
  PerViewerState1765100000000,
  Categories1765200000000,
  Webhooks1765300000000,
];
