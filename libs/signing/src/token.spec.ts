import { createHmac } from 'node:crypto';
import * as jose from 'jose';
import { generateSigningKey, type PrivateJwk, type PublicJwk, type SigningAlg } from './jwk.js';
import {
  CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LENGTH,
  MAX_TOKEN_LIFETIME_SECONDS,
  signBearerToken,
  type TokenKey,
  createTokenVerifier,
  TokenError,
  type VerifyTokenOptions,
  verifyBearerToken,
} from './token.js';

const AUDIENCE = 'cordon';
/** A fixed "now" (epoch seconds) that the verifier is told, so the tests move time freely. */
const NOW = 1_800_000_000;
const PRINCIPAL = 'a1111111-2222-4333-8444-55555555555b';
const OTHER_PRINCIPAL = '99999999-2222-4333-8444-555555555555';

const enc = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

interface Key {
  privateJwk: PrivateJwk;
  publicJwk: PublicJwk;
  kid: string;
}

async function newKey(alg: SigningAlg = 'ES256'): Promise<Key> {
  const { privateJwk, publicJwk } = await generateSigningKey(alg);
  return { privateJwk, publicJwk, kid: publicJwk.kid };
}

/** Signs any header and claims with the key; header defaults to the key's alg and kid. */
async function sign(key: Key, header: Record<string, unknown>, claims: unknown): Promise<string> {
  const k = await jose.importJWK(key.privateJwk, key.privateJwk.alg);
  return new jose.CompactSign(new TextEncoder().encode(typeof claims === 'string' ? claims : JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.privateJwk.alg, kid: key.kid, ...header } as jose.CompactJWSHeaderParameters)
    .sign(k);
}

/** Claims of a valid token at NOW. */
const good = (extra: Record<string, unknown> = {}) => ({ aud: AUDIENCE, iat: NOW, exp: NOW + 120, ...extra });

/** Removes claims from a valid set. */
function without(...names: string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = good();
  for (const n of names) delete claims[n];
  return claims;
}

describe('verifyBearerToken', () => {
  let es: Key;
  let ed: Key;
  let stranger: Key;
  let registry: Map<string, TokenKey>;
  /** The kids resolveKey was asked for (ESM jest has no global jest.fn, so a hand-made spy). */
  let asked: string[];
  let resolveKey: (kid: string) => Promise<TokenKey | null>;
  let options: VerifyTokenOptions;

  beforeAll(async () => {
    es = await newKey('ES256');
    ed = await newKey('EdDSA');
    stranger = await newKey('ES256');
    registry = new Map([
      [es.kid, { publicJwk: es.publicJwk, principalId: PRINCIPAL }],
      [ed.kid, { publicJwk: ed.publicJwk, principalId: OTHER_PRINCIPAL }],
    ]);
  });

  beforeEach(() => {
    asked = [];
    resolveKey = async (kid: string) => {
      asked.push(kid);
      return registry.get(kid) ?? null;
    };
    options = { audience: AUDIENCE, resolveKey, now: () => NOW };
  });

  /** Runs the verifier and returns the TokenError it must throw. */
  async function refused(token: string, opts: Partial<VerifyTokenOptions> = {}): Promise<TokenError> {
    let caught: unknown;
    try {
      await verifyBearerToken(token, { ...options, ...opts });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TokenError);
    return caught as TokenError;
  }

  describe('accepts', () => {
    it('a token made by signBearerToken (ES256), naming the key and its principal', async () => {
      const token = await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW });
      await expect(verifyBearerToken(token, options)).resolves.toEqual({
        kid: es.kid,
        principalId: PRINCIPAL,
        issuedAt: NOW,
        expiresAt: NOW + 120,
      });
      expect(asked).toEqual([es.kid]);
    });

    it('an EdDSA token', async () => {
      const token = await signBearerToken(ed.privateJwk, { audience: AUDIENCE, now: NOW, lifetimeSeconds: 30 });
      await expect(verifyBearerToken(token, options)).resolves.toEqual({ kid: ed.kid, principalId: OTHER_PRINCIPAL, issuedAt: NOW, expiresAt: NOW + 30 });
    });

    it('sub equal to the key’s principal, typ JWT or no typ, aud as a one-element array', async () => {
      for (const [header, claims] of [
        [{ typ: 'JWT' }, good({ sub: PRINCIPAL })],
        [{}, good()],
        [{}, good({ aud: [AUDIENCE] })],
        [{ typ: 'JWT' }, good({ nbf: NOW - 10, jti: 'abc', iss: 'me' })],
      ] as const) {
        const result = await verifyBearerToken(await sign(es, header, claims), options);
        expect(result.principalId).toBe(PRINCIPAL);
      }
    });

    it('a token expired by less than the 60 s skew', async () => {
      const token = await sign(es, {}, good({ iat: NOW - 200, exp: NOW - CLOCK_SKEW_SECONDS + 1 }));
      await expect(verifyBearerToken(token, options)).resolves.toMatchObject({ kid: es.kid });
    });

    it('a token issued up to 60 s in the future, or not valid before up to 60 s from now', async () => {
      await expect(verifyBearerToken(await sign(es, {}, good({ iat: NOW + 60, exp: NOW + 180 })), options)).resolves.toMatchObject({ issuedAt: NOW + 60 });
      await expect(verifyBearerToken(await sign(es, {}, good({ nbf: NOW + 60 })), options)).resolves.toMatchObject({ kid: es.kid });
    });

    it('a lifetime of exactly 300 s', async () => {
      const token = await sign(es, {}, good({ exp: NOW + MAX_TOKEN_LIFETIME_SECONDS }));
      await expect(verifyBearerToken(token, options)).resolves.toMatchObject({ expiresAt: NOW + 300 });
    });

    it('uses the real clock when no now is given', async () => {
      const token = await signBearerToken(es.privateJwk, { audience: AUDIENCE });
      await expect(verifyBearerToken(token, { audience: AUDIENCE, resolveKey })).resolves.toMatchObject({ kid: es.kid });
      // and a token valid at NOW is refused today, as expired or issued in the future
      const err = await refused(await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW }), { now: undefined });
      expect(err.reason).toMatch(/verification failed \(ERR_JWT_EXPIRED\)|issued in the future/);
    });
  });

  describe('refuses with a TokenError', () => {
    it('a token over 8 KiB, before anything else', async () => {
      const token = await sign(es, {}, good({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) }));
      const err = await refused(token);
      expect(err.reason).toBe('token too long');
      expect(err.kid).toBeUndefined();
      expect(asked).toEqual([]);
    });

    it.each([[''], ['garbage'], ['a.b'], ['a.b.c.d'], ['....']])('a token that is not three segments: %j', async (token) => {
      expect((await refused(token)).reason).toBe('not a compact JWS');
    });

    it.each([
      ['not base64url', '!!!.@@@.###'],
      ['header not JSON', `${enc('not json')}.${enc(good())}.sig`],
      ['header a JSON string', `${enc('"ES256"')}.${enc(good())}.sig`],
      ['header a JSON array', `${enc([])}.${enc(good())}.sig`],
      ['empty header', `.${enc(good())}.sig`],
    ])('a malformed header (%s)', async (_name, token) => {
      expect((await refused(token)).reason).toBe('malformed token header');
      expect(asked).toEqual([]);
    });

    it('a payload segment that is not base64url JSON, under a valid header and kid', async () => {
      const token = await sign(es, {}, good());
      const [h, , s] = token.split('.');
      for (const payload of ['%%%', enc('not json'), '']) {
        const err = await refused(`${h}.${payload}.${s}`);
        expect(err.reason).toMatch(/^verification failed \(ERR_JW[ST]_INVALID|^verification failed \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/);
        expect(err.kid).toBe(es.kid);
      }
    });

    it.each([
      ['jwk', (k: Key) => ({ jwk: k.publicJwk })],
      ['jku', () => ({ jku: 'https://attacker.example/jwks.json' })],
      ['x5u', () => ({ x5u: 'https://attacker.example/cert.pem' })],
      ['x5c', () => ({ x5c: ['MIIBszCCAVmgAwIBAgIUQ2'] })],
      ['x5t', () => ({ x5t: 'abc' })],
      ['cty', () => ({ cty: 'JWT' })],
      ['b64', () => ({ b64: true })],
    ])('a header with %s', async (member, extra) => {
      const token = await sign(es, extra(es), good());
      const err = await refused(token);
      expect(err.reason).toBe(`header member not allowed: ${member}`);
      expect(err.principalId).toBeUndefined();
      expect(asked).toEqual([]);
    });

    it('a header with crit', async () => {
      const k = await jose.importJWK(es.privateJwk, 'ES256');
      const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(good())))
        .setProtectedHeader({ alg: 'ES256', kid: es.kid, crit: ['urn:x'], 'urn:x': 1 } as jose.CompactJWSHeaderParameters)
        .sign(k, { crit: { 'urn:x': true } });
      expect((await refused(token)).reason).toMatch(/^header member not allowed: .*crit/);
    });

    it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s (unsigned)', async (alg) => {
      const unsigned = `${enc({ alg, kid: es.kid, typ: 'JWT' })}.${enc(good())}.`;
      // Known spellings are named; anything else a client invents is summarised, never echoed.
      expect((await refused(unsigned)).reason).toBe(`alg not allowed: ${alg === 'nOnE' ? 'unrecognised' : alg}`);
      expect(asked).toEqual([]);
    });

    it('HS256 signed with the public key JSON as the HMAC secret (key confusion)', async () => {
      const signingInput = `${enc({ alg: 'HS256', kid: es.kid, typ: 'JWT' })}.${enc(good())}`;
      const mac = createHmac('sha256', JSON.stringify(es.publicJwk)).update(signingInput).digest('base64url');
      expect((await refused(`${signingInput}.${mac}`)).reason).toBe('alg not allowed: HS256');
    });

    it('RS256 with a real RSA key', async () => {
      const { privateKey, publicKey } = await jose.generateKeyPair('RS256');
      const rsaKid = await jose.calculateJwkThumbprint(await jose.exportJWK(publicKey));
      for (const kid of [rsaKid, es.kid]) {
        const token = await new jose.SignJWT(good()).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
        expect((await refused(token)).reason).toBe('alg not allowed: RS256');
      }
    });

    it('other algorithms: ES384, ES512, PS256, Ed25519, a missing alg', async () => {
      for (const alg of ['ES384', 'ES512', 'PS256', 'Ed25519', 'es256']) {
        const token = `${enc({ alg, kid: es.kid })}.${enc(good())}.AAAA`;
        expect((await refused(token)).reason).toBe(`alg not allowed: ${alg === 'es256' ? 'unrecognised' : alg}`);
      }
      expect((await refused(`${enc({ kid: es.kid })}.${enc(good())}.AAAA`)).reason).toBe('alg not allowed: unrecognised');
    });

    it('never repeats header text a client invented (the reason lands in the append-only audit log)', async () => {
      const token = `${enc({ alg: 'ES256', kid: es.kid, 'Robert; DROP TABLE': 1, jku: 'x' })}.${enc(good())}.AAAA`;
      expect((await refused(token)).reason).toBe('header member not allowed: unrecognised, jku');
    });

    it('an alg that is allowed but is not the key’s (EdDSA header, ES256 key)', async () => {
      const token = await sign(ed, { kid: es.kid }, good());
      const err = await refused(token);
      expect(err.reason).toBe('alg does not match the key');
      expect(err.kid).toBe(es.kid);
      expect(err.principalId).toBeUndefined();
    });

    it.each([
      ['missing', undefined],
      ['a number', 42],
      ['empty', ''],
      ['path traversal', '../../../etc/passwd'],
      ['SQL injection', "x' OR '1'='1"],
      ['with a space', 'a b'],
      ['129 characters', 'A'.repeat(129)],
      ['1000 characters', 'k'.repeat(1000)],
    ])('a kid that is %s', async (_name, kid) => {
      const token = await sign(es, { kid }, good());
      const err = await refused(token);
      expect(err.reason).toBe('kid missing or malformed');
      expect(err.kid).toBeUndefined();
      expect(asked).toEqual([]);
    });

    it('a typ other than JWT', async () => {
      for (const typ of ['cordon-statement+jwt', 'at+jwt', 'JWS', 'dpop+jwt']) {
        const err = await refused(await sign(es, { typ }, good()));
        expect(err.reason).toBe('typ must be JWT when given');
        expect(err.kid).toBe(es.kid);
      }
      expect(asked).toEqual([]);
    });

    it('an unknown (or revoked) kid: a key that is not registered', async () => {
      const err = await refused(await sign(stranger, {}, good()));
      expect(err.reason).toBe('unknown or revoked key');
      expect(err.kid).toBe(stranger.kid);
      expect(err.principalId).toBeUndefined();
      expect(asked).toEqual([stranger.kid]);
    });

    it('a registered kid with a signature by another key', async () => {
      const err = await refused(await sign(stranger, { kid: es.kid }, good()));
      expect(err.reason).toBe('verification failed (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
      expect(err.kid).toBe(es.kid);
      // the kid is only a claim until the signature verifies: nobody is named
      expect(err.principalId).toBeUndefined();
    });

    it('a payload changed after signing', async () => {
      const [h, , s] = (await sign(es, {}, good())).split('.');
      const err = await refused(`${h}.${enc(good({ sub: OTHER_PRINCIPAL }))}.${s}`);
      expect(err.reason).toBe('verification failed (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
      expect(err.principalId).toBeUndefined();
    });

    it('an empty signature under a registered kid', async () => {
      const [h, p] = (await sign(es, {}, good())).split('.');
      expect((await refused(`${h}.${p}.`)).reason).toMatch(/^verification failed \(ERR_JWS_(SIGNATURE_VERIFICATION_FAILED|INVALID)\)$/);
    });

    it('a token expired beyond the 60 s skew', async () => {
      const token = await sign(es, {}, good({ iat: NOW - 200, exp: NOW - CLOCK_SKEW_SECONDS }));
      const err = await refused(token);
      expect(err.reason).toBe('verification failed (ERR_JWT_EXPIRED)');
      // the signature verified before the claims were checked: the key's principal is named
      expect(err.principalId).toBe(PRINCIPAL);
      const later = await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW, lifetimeSeconds: 120 });
      await expect(verifyBearerToken(later, options)).resolves.toBeDefined();
      expect((await refused(later, { now: () => NOW + 120 + 60 })).reason).toBe('verification failed (ERR_JWT_EXPIRED)');
      await expect(verifyBearerToken(later, { ...options, now: () => NOW + 120 + 59 })).resolves.toBeDefined();
    });

    it('a token issued more than 60 s in the future', async () => {
      const token = await sign(es, {}, good({ iat: NOW + CLOCK_SKEW_SECONDS + 1, exp: NOW + 200 }));
      const err = await refused(token);
      expect(err.reason).toBe('issued in the future');
      expect(err.kid).toBe(es.kid);
      expect(err.principalId).toBe(PRINCIPAL);
    });

    it('a token not valid before more than 60 s from now (nbf)', async () => {
      const token = await sign(es, {}, good({ nbf: NOW + CLOCK_SKEW_SECONDS + 1 }));
      const err = await refused(token);
      expect(err.reason).toBe('verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED)');
      expect(err.principalId).toBe(PRINCIPAL);
    });

    it('a lifetime over 300 s', async () => {
      expect((await refused(await sign(es, {}, good({ exp: NOW + MAX_TOKEN_LIFETIME_SECONDS + 1 })))).reason).toBe('lifetime over 300 seconds');
      expect((await refused(await sign(es, {}, good({ iat: NOW - 3600, exp: NOW + 3600 })))).reason).toBe('lifetime over 300 seconds');
      const long = await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW, lifetimeSeconds: 301 });
      expect((await refused(long)).reason).toBe('lifetime over 300 seconds');
    });

    it('exp not after iat', async () => {
      expect((await refused(await sign(es, {}, good({ exp: NOW })))).reason).toBe('exp must be after iat');
      expect((await refused(await sign(es, {}, good({ iat: NOW + 30, exp: NOW + 10 })))).reason).toBe('exp must be after iat');
    });

    it.each(['exp', 'iat', 'aud', 'iat,exp'])('a token without %s', async (names) => {
      const err = await refused(await sign(es, {}, without(...names.split(','))));
      expect(err.reason).toBe('verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED)');
      expect(err.kid).toBe(es.kid);
      expect(err.principalId).toBe(PRINCIPAL);
    });

    it('iat or exp that are not numbers', async () => {
      for (const claims of [good({ iat: String(NOW) }), good({ exp: String(NOW + 100) }), good({ exp: null }), good({ iat: true })]) {
        expect((await refused(await sign(es, {}, claims))).reason).toMatch(/^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$|^iat and exp must be numbers$/);
      }
    });

    it('a wrong audience, and an audience array with an extra audience', async () => {
      for (const aud of ['other', 'CORDON', ' cordon', [AUDIENCE, 'other'], ['other', AUDIENCE], [], [AUDIENCE, AUDIENCE]]) {
        const err = await refused(await sign(es, {}, good({ aud })));
        expect({ aud, reason: err.reason }).toEqual({ aud, reason: 'wrong audience' });
        expect(err.kid).toBe(es.kid);
        expect(err.principalId).toBe(PRINCIPAL);
      }
      // a token for this audience is refused by a verifier of another
      const token = await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW });
      expect((await refused(token, { audience: 'cordon-staging' })).reason).toBe('wrong audience');
    });

    it('an aud that is not a string', async () => {
      for (const aud of [42, { cordon: true }, [42]]) {
        expect((await refused(await sign(es, {}, good({ aud })))).reason).toMatch(/^wrong audience$|^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$/);
      }
    });

    it('a sub that is another principal (or empty)', async () => {
      for (const sub of [OTHER_PRINCIPAL, '', PRINCIPAL.toUpperCase()]) {
        const err = await refused(await sign(es, {}, good({ sub })));
        expect(err.reason).toBe('sub is not the key owner');
        expect(err.kid).toBe(es.kid);
        expect(err.principalId).toBe(PRINCIPAL);
      }
      const other = await signBearerToken(ed.privateJwk, { audience: AUDIENCE, now: NOW, subject: PRINCIPAL });
      const err = await refused(other);
      expect(err.reason).toBe('sub is not the key owner');
      // named is the principal whose key signed, not the one the token claims to be
      expect(err.principalId).toBe(OTHER_PRINCIPAL);
    });

    it('a payload that is not a JSON object', async () => {
      for (const payload of ['[1,2]', '"cordon"', '42']) {
        expect((await refused(await sign(es, {}, payload))).reason).toBe('verification failed (ERR_JWT_INVALID)');
      }
    });

    it('a key that resolveKey no longer returns (revoked between two requests)', async () => {
      const token = await signBearerToken(es.privateJwk, { audience: AUDIENCE, now: NOW });
      await expect(verifyBearerToken(token, options)).resolves.toBeDefined();
      const err = await refused(token, { resolveKey: async () => null });
      expect(err.reason).toBe('unknown or revoked key');
    });
  });

  it('TokenError carries the reason as its message and is an Error', () => {
    const err = new TokenError('why', 'kid1');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('TokenError');
    expect(err.message).toBe('why');
    expect(err.kid).toBe('kid1');
    expect(err.principalId).toBeUndefined();
    expect(new TokenError('why', 'kid1', PRINCIPAL).principalId).toBe(PRINCIPAL);
  });
});

describe('duplicate JSON member names', () => {
  it('refuses a token whose header or claims repeat a member', async () => {
    const { generateSigningKey: gen } = await import('./jwk.js');
    const { privateJwk, publicJwk } = await gen('ES256');
    const key = await jose.importJWK(privateJwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    // The payload text is signed as given, duplicate "aud" included.
    const payload = `{"aud":"cordon","iat":${now},"exp":${now + 60},"aud":"other"}`;
    const token = await new jose.CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid }).sign(key);
    await expect(
      verifyBearerToken(token, { audience: 'cordon', resolveKey: async () => ({ publicJwk, principalId: 'p' }) }),
    ).rejects.toMatchObject({ reason: 'duplicate JSON member names' });
  });
});

describe('createTokenVerifier: a token seen before skips only what its bytes decide', () => {
  let key: Key;
  let other: Key;
  let registry: Map<string, TokenKey>;
  const at = (now: number, extra: Partial<VerifyTokenOptions> = {}): VerifyTokenOptions => ({
    audience: AUDIENCE,
    resolveKey: async (kid) => registry.get(kid) ?? null,
    now: () => now,
    ...extra,
  });
  async function reason(promise: Promise<unknown>): Promise<string> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TokenError);
    return (err as TokenError).reason;
  }

  beforeAll(async () => {
    key = await newKey('ES256');
    other = await newKey('ES256');
  });
  beforeEach(() => {
    registry = new Map([[key.kid, { publicJwk: key.publicJwk, principalId: PRINCIPAL }]]);
  });

  it('checks expiry against the clock on every use', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(key, { typ: 'JWT' }, good());
    await expect(verifier.verify(token, at(NOW))).resolves.toMatchObject({ kid: key.kid, principalId: PRINCIPAL });
    await expect(verifier.verify(token, at(NOW + 120 + CLOCK_SKEW_SECONDS - 1))).resolves.toMatchObject({ kid: key.kid });
    expect(await reason(verifier.verify(token, at(NOW + 120 + CLOCK_SKEW_SECONDS)))).toBe('verification failed (ERR_JWT_EXPIRED)');
  });

  it('checks not-before against the clock on every use', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(key, {}, good({ nbf: NOW + 100 }));
    await expect(verifier.verify(token, at(NOW + 100))).resolves.toMatchObject({ kid: key.kid });
    expect(await reason(verifier.verify(token, at(NOW)))).toBe('verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED)');
  });

  it('asks for the key every time: a revoked key ends a remembered token at once', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(key, {}, good());
    await verifier.verify(token, at(NOW));
    registry.clear();
    expect(await reason(verifier.verify(token, at(NOW)))).toBe('unknown or revoked key');
  });

  it('verifies the signature again when the kid resolves to another public key', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(key, {}, good());
    await verifier.verify(token, at(NOW));
    registry.set(key.kid, { publicJwk: { ...other.publicJwk, kid: key.kid }, principalId: PRINCIPAL });
    expect(await reason(verifier.verify(token, at(NOW)))).toBe('verification failed (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
  });

  it('refuses a remembered token for the same claim reasons as the first time', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(key, {}, good({ aud: 'elsewhere' }));
    expect(await reason(verifier.verify(token, at(NOW)))).toBe('wrong audience');
    expect(await reason(verifier.verify(token, at(NOW)))).toBe('wrong audience');
    const forOther = await sign(key, {}, good({ sub: OTHER_PRINCIPAL }));
    expect(await reason(verifier.verify(forOther, at(NOW)))).toBe('sub is not the key owner');
    expect(await reason(verifier.verify(forOther, at(NOW)))).toBe('sub is not the key owner');
  });

  it('never remembers a token whose signature failed', async () => {
    const verifier = createTokenVerifier({ maxEntries: 10 });
    const token = await sign(other, { kid: key.kid }, good());
    for (let i = 0; i < 2; i++) expect(await reason(verifier.verify(token, at(NOW)))).toBe('verification failed (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
  });

  it('stays correct past its bound (oldest entries dropped)', async () => {
    const verifier = createTokenVerifier({ maxEntries: 2 });
    const tokens = await Promise.all([1, 2, 3, 4].map((n) => sign(key, {}, good({ jti: String(n) }))));
    for (let round = 0; round < 2; round++) {
      for (const token of tokens) await expect(verifier.verify(token, at(NOW))).resolves.toMatchObject({ kid: key.kid });
    }
  });
});
