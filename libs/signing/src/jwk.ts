import * as jose from 'jose';

/** The only algorithms Cordon accepts, for principals and for the exchange itself (SPEC 2). */
export const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export function isSigningAlg(value: unknown): value is SigningAlg {
  return value === 'ES256' || value === 'EdDSA';
}

/** A validated public key: only the members RFC 7638 hashes, plus alg and kid. */
export interface PublicJwk {
  kty: 'EC' | 'OKP';
  crv: 'P-256' | 'Ed25519';
  x: string;
  y?: string;
  alg: SigningAlg;
  kid: string;
}

export interface PrivateJwk extends PublicJwk {
  d: string;
}

/** Why a JWK was refused; `path` names the offending member for the client's error message. */
export class JwkError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'JwkError';
  }
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** `ext` is what WebCrypto's exportKey adds; it and use/key_ops are checked, then dropped. */
const ALLOWED_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'alg', 'kid', 'use', 'key_ops', 'ext']);
const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/**
 * 32 bytes in canonical base64url. The last of 43 characters carries 2 unused bits, so one
 * coordinate has four spellings; only the one whose unused bits are zero is accepted, so that a
 * key has exactly one thumbprint (and a revoked key cannot come back under another kid).
 */
function coordinate(value: unknown, path: string): string {
  if (typeof value !== 'string' || !B64URL_32.test(value)) throw new JwkError(path, 'must be 32 bytes in base64url');
  if (jose.base64url.encode(jose.base64url.decode(value)) !== value) {
    throw new JwkError(path, 'is not in canonical base64url (the unused bits of the last character must be zero)');
  }
  return value;
}

/** RFC 7638 SHA-256 thumbprint, base64url: a key's kid. */
export function thumbprint(jwk: { kty: string; crv?: string; x?: string; y?: string }): Promise<string> {
  return jose.calculateJwkThumbprint(jwk as jose.JWK, 'sha256');
}

/**
 * Validates a client-supplied public JWK (P-256 EC or Ed25519 OKP only, no private part,
 * a point that imports) and returns it reduced to its public members with alg and kid.
 * `field` prefixes every error path, e.g. `publicJwk`.
 */
export async function parsePublicJwk(input: unknown, field = 'publicJwk'): Promise<PublicJwk> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new JwkError(field, 'must be a JSON object (a public JWK)');
  }
  const raw = input as Record<string, unknown>;
  const secret = PRIVATE_MEMBERS.filter((m) => m in raw);
  if (secret.length > 0) {
    throw new JwkError(
      field,
      `contains private key material (${secret.join(', ')}); send only the public key — the private key must never leave your machine`,
    );
  }
  const unknown = Object.keys(raw).filter((m) => !ALLOWED_MEMBERS.has(m));
  if (unknown.length > 0) {
    throw new JwkError(field, `has members Cordon does not accept: ${unknown.join(', ')} (allowed: ${[...ALLOWED_MEMBERS].join(', ')})`);
  }
  let jwk: Omit<PublicJwk, 'kid'>;
  if (raw.kty === 'EC') {
    if (raw.crv !== 'P-256') throw new JwkError(`${field}.crv`, 'only P-256 is accepted for EC keys (ES256)');
    const x = coordinate(raw.x, `${field}.x`);
    const y = coordinate(raw.y, `${field}.y`);
    if (raw.alg !== undefined && raw.alg !== 'ES256') throw new JwkError(`${field}.alg`, 'must be ES256 for a P-256 key');
    jwk = { kty: 'EC', crv: 'P-256', x, y, alg: 'ES256' };
  } else if (raw.kty === 'OKP') {
    if (raw.crv !== 'Ed25519') throw new JwkError(`${field}.crv`, 'only Ed25519 is accepted for OKP keys (EdDSA)');
    const x = coordinate(raw.x, `${field}.x`);
    if ('y' in raw) throw new JwkError(`${field}.y`, 'must be absent for an Ed25519 key');
    if (raw.alg !== undefined && raw.alg !== 'EdDSA' && raw.alg !== 'Ed25519') {
      throw new JwkError(`${field}.alg`, 'must be EdDSA for an Ed25519 key');
    }
    jwk = { kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA' };
  } else {
    throw new JwkError(`${field}.kty`, 'only EC P-256 (ES256) and OKP Ed25519 (EdDSA) public keys are accepted');
  }
  if (raw.use !== undefined && raw.use !== 'sig') throw new JwkError(`${field}.use`, 'must be "sig" when given');
  if (raw.ext !== undefined && typeof raw.ext !== 'boolean') throw new JwkError(`${field}.ext`, 'must be a boolean when given');
  if (raw.key_ops !== undefined) {
    if (!Array.isArray(raw.key_ops) || raw.key_ops.some((op) => op !== 'verify')) {
      throw new JwkError(`${field}.key_ops`, 'must be ["verify"] when given');
    }
  }
  try {
    await jose.importJWK({ ...jwk }, jwk.alg);
  } catch {
    throw new JwkError(field, 'is not a valid public key (the point is not on the curve)');
  }
  const kid = await thumbprint(jwk);
  if (raw.kid !== undefined && raw.kid !== kid) {
    throw new JwkError(`${field}.kid`, `must be the key's RFC 7638 SHA-256 thumbprint (${kid}) when given`);
  }
  return { ...jwk, kid };
}

/** A fresh key pair as JWKs (private includes the public members, alg and kid). */
export async function generateSigningKey(alg: SigningAlg): Promise<{ privateJwk: PrivateJwk; publicJwk: PublicJwk }> {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
  const exported = await jose.exportJWK(privateKey);
  const publicJwk = toPublicJwk({ ...(exported as PrivateJwk), alg }, await thumbprint(exported as PublicJwk));
  return { privateJwk: { ...publicJwk, d: exported.d as string }, publicJwk };
}

function toPublicJwk(jwk: Omit<PublicJwk, 'kid'> & { kid?: string }, kid: string): PublicJwk {
  return jwk.kty === 'EC'
    ? { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, alg: 'ES256', kid }
    : { kty: 'OKP', crv: 'Ed25519', x: jwk.x, alg: 'EdDSA', kid };
}

/** Reads a private JWK (e.g. a `cordon keygen` file), checks it, and derives alg and kid. */
export async function parsePrivateJwk(input: unknown): Promise<PrivateJwk> {
  if (typeof input !== 'object' || input === null || typeof (input as { d?: unknown }).d !== 'string') {
    throw new JwkError('key', 'is not a private JWK (member "d" is missing)');
  }
  const { d, ...pub } = input as Record<string, unknown>;
  const { kid: _ignored, ...withoutKid } = pub;
  const publicJwk = await parsePublicJwk(withoutKid, 'key');
  try {
    await jose.importJWK({ ...publicJwk, d: d as string }, publicJwk.alg);
  } catch {
    throw new JwkError('key.d', 'is not a valid private key for this public key');
  }
  return { ...publicJwk, d: d as string };
}

export function publicPart(jwk: PrivateJwk | PublicJwk): PublicJwk {
  return toPublicJwk(jwk, jwk.kid);
}
