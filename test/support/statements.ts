import { randomUUID } from 'node:crypto';
import { signStatement } from '@app/signing';
import type { TestKey } from './keys.js';

export interface StatementInput {
  iss: string;
  jti?: string;
  iat?: number;
  exp?: number;
  indicator?: { kind: string; network?: string; value: unknown };
  category?: string;
  confidence?: number;
  tlp?: string;
  shareWith?: string[];
  evidence?: { sites?: string[]; reference?: string; observedAt?: string };
  [extra: string]: unknown;
}

let counter = 0;

/** A fresh, valid EVM address (deterministic per call) for test indicators. */
export function nextAddress(): string {
  counter++;
  return `0x${randomUUID().replace(/-/g, '').slice(0, 32)}${counter.toString(16).padStart(8, '0')}`;
}

/** Claims with sensible defaults; override any of them. */
export function claims(overrides: StatementInput): Record<string, unknown> {
  return {
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() },
    category: 'CSAM_COMMERCIAL',
    confidence: 80,
    tlp: 'GREEN',
    ...overrides,
  };
}

/** A statement JWS signed by the key, as a member's tooling makes it (SPEC 4). */
export function statement(key: TestKey, overrides: StatementInput): Promise<string> {
  return signStatement(key.privateJwk as unknown as Parameters<typeof signStatement>[0], claims(overrides));
}

export const SUBMIT = `mutation($jws: String!) {
  submitStatement(jws: $jws) { receipt indicator { id status kind network value fingerprint attestationCount confidence tlp } statement { id sha256 jti } }
}`;

export const SUBMIT_MANY = `mutation($jws: [String!]!) {
  submitStatements(jws: $jws) { ok code error result { receipt indicator { id status } statement { id } } }
}`;
