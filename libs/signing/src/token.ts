import * as jose from 'jose';
import { isSigningAlg, type PrivateJwk, type PublicJwk, type SigningAlg } from './jwk.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/** SPEC 2: a bearer token lives at most this long (exp - iat), with this much clock skew. */
export const MAX_TOKEN_LIFETIME_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 60;
/** Far above any honest token; stops huge inputs before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

/** Header members a bearer token may carry; anything else (jwk, jku, x5u, x5c, crit …) is refused. */
const ALLOWED_HEADER = new Set(['alg', 'kid', 'typ']);
const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * Names a refusal reason may repeat. Anything else a client sends is summarised, so an
 * unauthenticated caller cannot write text of its choice into the append-only audit log.
 */
const KNOWN_HEADER = new Set(['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'cty', 'b64', 'zip', 'epk', 'enc', 'url', 'nonce']);
const KNOWN_ALG = new Set(['none', 'None', 'NONE', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES384', 'ES512', 'ES256K', 'Ed25519', 'Ed448']);

function nameOf(value: unknown, known: Set<string>): string {
  return typeof value === 'string' && known.has(value) ? value : 'unrecognised';
}

/**
 * A refused token. `reason` is for the audit log and the operator, never for the client, who
 * learns only UNAUTHENTICATED. `principalId` is set only once the token's signature has verified
 * with the kid's key: before that the kid is just a claim and names nobody.
 */
export class TokenError extends Error {
  constructor(
    readonly reason: string,
    readonly kid?: string,
    readonly principalId?: string,
    /**
     * What the caller may be told (`extensions.reason`): its own mistakes — the token's shape and,
     * once the signature has verified, its claims. Undefined where telling would reveal keys or
     * principals (unknown or revoked kid, a signature that does not verify).
     */
    readonly callerReason?: string,
  ) {
    super(reason);
    this.name = 'TokenError';
  }
}

/** A refusal whose reason may be told to the caller (see TokenError.callerReason). */
const told = (reason: string, kid?: string, principalId?: string) => new TokenError(reason, kid, principalId, reason);

export interface TokenKey {
  publicJwk: PublicJwk;
  principalId: string;
}

export interface VerifyTokenOptions {
  audience: string;
  /** Finds the ACTIVE key with this thumbprint, or null. */
  resolveKey: (kid: string) => Promise<TokenKey | null>;
  /** Seconds since the epoch; injectable so tests can move time. */
  now?: () => number;
}

export interface VerifiedToken {
  kid: string;
  principalId: string;
  issuedAt: number;
  expiresAt: number;
}

/** Peeks at the header without trusting it: the kid to audit a refusal under, if well-formed. */
function readHeader(token: string): jose.ProtectedHeaderParameters {
  try {
    return jose.decodeProtectedHeader(token);
  } catch {
    throw new TokenError('malformed token header', undefined, undefined, 'malformed token header');
  }
}

/**
 * Verifies a principal's self-signed bearer token exactly as SPEC 2 says: alg ES256/EdDSA only,
 * kid = thumbprint of an active key, aud, iat, exp with exp - iat <= 300 s and 60 s skew,
 * optional sub equal to the key's principal. Throws TokenError on anything else.
 */
export function verifyBearerToken(token: string, options: VerifyTokenOptions): Promise<VerifiedToken> {
  return uncached.verify(token, options);
}

const uncached = createTokenVerifier({ maxEntries: 0 });
/** Honest tokens are a few hundred bytes; longer ones are verified every time and never kept. */
const MAX_CACHED_TOKEN_LENGTH = 2048;

export interface TokenVerifier {
  verify(token: string, options: VerifyTokenOptions): Promise<VerifiedToken>;
}

/**
 * A bearer-token verifier that remembers what it has proved. A client reuses its token for up to
 * five minutes, and checking the same signature again proves nothing new: the same token bytes
 * verified once with the same public key verify again. So a token seen before skips the parsing
 * and the signature check (most of the cost of a small request); everything that can change is
 * checked on every request as before — the key still ACTIVE (resolveKey, a database read), its
 * alg, expiry and not-before against the clock, audience, lifetime, sub. Imported public keys
 * are kept too. Both caches are bounded (`maxEntries`; 0 caches nothing).
 */
export function createTokenVerifier(settings: { maxEntries: number }): TokenVerifier {
  const proven = new Map<string, { header: jose.ProtectedHeaderParameters; jwk: string; payload: jose.JWTPayload }>();
  const imported = new Map<string, Promise<jose.CryptoKey | Uint8Array>>();
  const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
    if (settings.maxEntries === 0) return;
    if (map.size >= settings.maxEntries) map.delete(map.keys().next().value as K);
    map.set(key, value);
  };
  const importKey = (jwk: PublicJwk) => {
    const id = JSON.stringify(jwk);
    let key = imported.get(id);
    if (!key) {
      key = jose.importJWK({ ...jwk }, jwk.alg);
      remember(imported, id, key);
      key.catch(() => imported.delete(id));
    }
    return key;
  };

  return {
    async verify(token, options) {
      const cached = settings.maxEntries > 0 ? proven.get(token) : undefined;
      const header = cached?.header ?? checkShape(token);
      const kid = header.kid as string;
      const found = await options.resolveKey(kid);
      if (!found) throw new TokenError('unknown or revoked key', kid);
      if (found.publicJwk.alg !== header.alg) throw new TokenError('alg does not match the key', kid);

      const now = options.now ? options.now() : Math.floor(Date.now() / 1000);
      const jwk = JSON.stringify(found.publicJwk);
      let payload: jose.JWTPayload;
      if (cached && cached.jwk === jwk) {
        payload = cached.payload;
        // What jose checks against the clock, again for this moment (the rest is in checkClaims).
        if (typeof payload.exp === 'number' && payload.exp <= now - CLOCK_SKEW_SECONDS) {
          throw new TokenError('verification failed (ERR_JWT_EXPIRED)', kid, found.principalId, 'expired (exp is past, beyond the 60 s clock skew)');
        }
        if (typeof payload.nbf === 'number' && payload.nbf > now + CLOCK_SKEW_SECONDS) {
          throw new TokenError('verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED)', kid, found.principalId, 'not yet valid (nbf is ahead, beyond the 60 s clock skew)');
        }
      } else {
        try {
          ({ payload } = await jose.jwtVerify(token, await importKey(found.publicJwk), {
            algorithms: [found.publicJwk.alg],
            clockTolerance: CLOCK_SKEW_SECONDS,
            currentDate: new Date(now * 1000),
            requiredClaims: ['iat', 'exp', 'aud'],
          }));
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'ERR_JWS_INVALID';
          // jose checks claims only after the signature has verified
          const signed = code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED';
          const callerReason =
            code === 'ERR_JWT_EXPIRED'
              ? 'expired (exp is past, beyond the 60 s clock skew)'
              : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
                ? `claim refused: ${(err as Error).message}`
                : undefined;
          throw new TokenError(`verification failed (${code})`, kid, signed ? found.principalId : undefined, callerReason);
        }
        if (token.length <= MAX_CACHED_TOKEN_LENGTH) remember(proven, token, { header, jwk, payload });
      }
      return checkClaims(payload, kid, found.principalId, options.audience, now);
    },
  };
}

/** Everything about a token that its bytes alone decide: the same on every request. */
function checkShape(token: string): jose.ProtectedHeaderParameters {
  if (token.length > MAX_TOKEN_LENGTH) throw told('token too long');
  const segments = token.split('.');
  if (segments.length !== 3) throw told('not a compact JWS');
  // Duplicate member names would let two parsers read two different tokens from one signature.
  for (const segment of segments.slice(0, 2)) {
    try {
      parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(jose.base64url.decode(segment)));
    } catch (err) {
      // Other malformations are refused below, each with its own reason.
      if (err instanceof StrictJsonError && err.message.includes('twice')) throw told('duplicate JSON member names');
    }
  }
  const header = readHeader(token);
  const extra = Object.keys(header).filter((k) => !ALLOWED_HEADER.has(k));
  if (extra.length > 0) {
    throw told(`header member not allowed: ${[...new Set(extra.map((k) => nameOf(k, KNOWN_HEADER)))].join(', ')}`);
  }
  if (!isSigningAlg(header.alg)) throw told(`alg not allowed: ${nameOf(header.alg, KNOWN_ALG)}`);
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) throw told('kid missing or malformed');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
    throw told('typ must be JWT when given', header.kid);
  }
  return header;
}

/** The claims SPEC 2 adds to jose's checks; the signature has verified, so a refusal names the key's principal. */
function checkClaims(payload: jose.JWTPayload, kid: string, principalId: string, audience: string, now: number): VerifiedToken {
  const refuse = (reason: string) => told(reason, kid, principalId);
  const { aud, iat, exp, sub } = payload;
  const audOk = aud === audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === audience);
  if (!audOk) throw new TokenError('wrong audience', kid, principalId, `wrong audience: aud must be ${JSON.stringify(audience)}`);
  if (typeof iat !== 'number' || typeof exp !== 'number') throw refuse('iat and exp must be numbers');
  if (exp <= iat) throw refuse('exp must be after iat');
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw refuse('lifetime over 300 seconds');
  if (iat > now + CLOCK_SKEW_SECONDS) throw refuse('issued in the future');
  if (sub !== undefined && sub !== principalId) throw refuse('sub is not the key owner');
  return { kid, principalId, issuedAt: iat, expiresAt: exp };
}

/** Makes a bearer token for a principal (what `cordon token` prints). */
export async function signBearerToken(
  privateJwk: PrivateJwk,
  options: { audience: string; lifetimeSeconds?: number; subject?: string; now?: number },
): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const lifetime = options.lifetimeSeconds ?? 120;
  const key = await jose.importJWK(privateJwk, privateJwk.alg);
  const jwt = new jose.SignJWT({})
    .setProtectedHeader({ alg: privateJwk.alg, kid: privateJwk.kid, typ: 'JWT' })
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime);
  if (options.subject) jwt.setSubject(options.subject);
  return jwt.sign(key);
}

export type CompactSigner = (payload: unknown, typ: string) => Promise<string>;

/**
 * A signer for JSON payloads as compact JWS (receipts, checkpoints), with the private key
 * imported once: importing costs more than signing.
 */
export function createSigner(privateJwk: PrivateJwk): CompactSigner {
  const key = jose.importJWK(privateJwk, privateJwk.alg);
  return async (payload, typ) =>
    new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: privateJwk.alg as SigningAlg, kid: privateJwk.kid, typ })
      .sign(await key);
}

/** Verifies a compact JWS against one of a set of public keys (e.g. the exchange JWKS). */
export async function verifyCompact(jws: string, keys: PublicJwk[]): Promise<{ payload: unknown; kid: string; typ?: string }> {
  const header = jose.decodeProtectedHeader(jws);
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== jwk.alg) throw new TokenError('no such key in the key set');
  const key = await jose.importJWK({ ...jwk }, jwk.alg);
  const { payload } = await jose.compactVerify(jws, key, { algorithms: [jwk.alg] });
  return { payload: JSON.parse(new TextDecoder().decode(payload)), kid: jwk.kid, typ: typeof header.typ === 'string' ? header.typ : undefined };
}
