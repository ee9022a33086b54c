import * as jose from 'jose';
import { isSigningAlg, type PublicJwk, type SigningAlg } from './jwk.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/** SPEC 4: the media type of a signed indicator statement. */
export const STATEMENT_TYP = 'cordon-statement+jwt';
const MAX_STATEMENT_LENGTH = 64 * 1024;
const ALLOWED_HEADER = new Set(['alg', 'kid', 'typ']);
const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export class StatementFormatError extends Error {
  constructor(
    readonly code: 'MALFORMED' | 'BAD_HEADER',
    message: string,
  ) {
    super(message);
  }
}

export interface DecodedStatement {
  alg: SigningAlg;
  kid: string;
  payload: unknown;
}

/**
 * Reads a statement JWS without trusting it: compact form, header (typ, alg, kid only) and the
 * JSON payload. The signature is checked separately, once the kid's key is known.
 */
export function decodeStatement(jws: string): DecodedStatement {
  if (typeof jws !== 'string' || jws.length === 0) throw new StatementFormatError('MALFORMED', 'jws: must be a compact JWS');
  if (jws.length > MAX_STATEMENT_LENGTH) throw new StatementFormatError('MALFORMED', `jws: longer than ${MAX_STATEMENT_LENGTH} characters`);
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1] || !parts[2]) {
    throw new StatementFormatError('MALFORMED', 'jws: not a compact JWS (three base64url parts separated by dots)');
  }
  const text = (segment: string, what: string) => {
    try {
      return parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(jose.base64url.decode(segment)));
    } catch (err) {
      const detail = err instanceof StrictJsonError ? `: ${err.message}` : '';
      throw new StatementFormatError('MALFORMED', `jws: the ${what} is not base64url UTF-8 JSON${detail}`);
    }
  };
  const header = text(parts[0], 'protected header') as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new StatementFormatError('MALFORMED', 'jws: the protected header is not a JSON object');
  }
  const extra = Object.keys(header).filter((k) => !ALLOWED_HEADER.has(k));
  if (extra.length > 0) throw new StatementFormatError('BAD_HEADER', `header: members other than alg, kid and typ are not allowed (${extra.length} found)`);
  if (header.typ !== STATEMENT_TYP) throw new StatementFormatError('BAD_HEADER', `header.typ: must be "${STATEMENT_TYP}"`);
  if (!isSigningAlg(header.alg)) throw new StatementFormatError('BAD_HEADER', 'header.alg: must be ES256 or EdDSA');
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) {
    throw new StatementFormatError('BAD_HEADER', 'header.kid: must be the signing key’s RFC 7638 thumbprint');
  }
  const payload = text(parts[1], 'payload');
  return { alg: header.alg, kid: header.kid, payload };
}

/** A public key imported once and reused for many verifications. */
export type VerifyingKey = { alg: SigningAlg; key: Awaited<ReturnType<typeof jose.importJWK>> };

export async function importVerifyingKey(jwk: PublicJwk): Promise<VerifyingKey> {
  return { alg: jwk.alg, key: await jose.importJWK({ ...jwk }, jwk.alg) };
}

/** True when the JWS signature verifies with the key (WebCrypto: off the event loop). */
export async function verifySignature(jws: string, key: VerifyingKey): Promise<boolean> {
  try {
    await jose.compactVerify(jws, key.key, { algorithms: [key.alg] });
    return true;
  } catch {
    return false;
  }
}

/** Signs a statement (what a member's tooling does; used by `cordon sign` and the tests). */
export async function signStatement(privateJwk: { alg: SigningAlg; kid: string } & Record<string, unknown>, claims: unknown): Promise<string> {
  const key = await jose.importJWK(privateJwk as jose.JWK, privateJwk.alg);
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: privateJwk.alg, kid: privateJwk.kid, typ: STATEMENT_TYP })
    .sign(key);
}
