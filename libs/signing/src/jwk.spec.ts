import * as jose from 'jose';
import { generateSigningKey, JwkError, parsePrivateJwk, parsePublicJwk, type PublicJwk, publicPart, thumbprint } from './jwk.js';

/** The RSA key of RFC 7638 section 3.1 and its published SHA-256 thumbprint. */
const RFC7638_KEY = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

const b64 = (bytes: Buffer) => bytes.toString('base64url');

/** Runs parsePublicJwk and returns the JwkError it must throw. */
async function refusal(input: unknown, field?: string): Promise<JwkError> {
  let caught: unknown;
  try {
    await parsePublicJwk(input, field);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(JwkError);
  return caught as JwkError;
}

/** A fresh public key as a plain object the tests may tamper with. */
async function publicJwkOf(alg: 'ES256' | 'EdDSA'): Promise<Record<string, unknown>> {
  const { publicJwk } = await generateSigningKey(alg);
  return { ...publicJwk };
}

describe('thumbprint', () => {
  it('matches the RFC 7638 section 3.1 example (RSA, any kty)', async () => {
    const key: { kty: string } = RFC7638_KEY;
    expect(await thumbprint(key)).toBe(RFC7638_THUMBPRINT);
  });

  it('ignores members that RFC 7638 does not hash (alg, kid, use)', async () => {
    const jwk = await publicJwkOf('ES256');
    const bare = { kty: jwk.kty as string, crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
    expect(await thumbprint({ ...bare })).toBe(jwk.kid);
    const withExtras: { kty: string; crv: string; x: string; y: string } = { ...bare, ...{ alg: 'ES256', kid: 'other', use: 'sig' } };
    expect(await thumbprint(withExtras)).toBe(jwk.kid);
  });

  it('is what jose computes, and differs from key to key', async () => {
    const a = await publicJwkOf('EdDSA');
    const b = await publicJwkOf('EdDSA');
    expect(a.kid).toBe(await jose.calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: a.x as string }, 'sha256'));
    expect(a.kid).not.toBe(b.kid);
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('generateSigningKey', () => {
  it.each(['ES256', 'EdDSA'] as const)('%s: the public key round-trips through parsePublicJwk unchanged', async (alg) => {
    const { privateJwk, publicJwk } = await generateSigningKey(alg);
    expect(publicJwk.alg).toBe(alg);
    expect(publicJwk.kty).toBe(alg === 'ES256' ? 'EC' : 'OKP');
    expect(publicJwk.crv).toBe(alg === 'ES256' ? 'P-256' : 'Ed25519');
    expect('d' in publicJwk).toBe(false);
    expect(typeof privateJwk.d).toBe('string');
    expect(privateJwk.kid).toBe(publicJwk.kid);
    expect(publicJwk.kid).toBe(await thumbprint(publicJwk));

    const parsed = await parsePublicJwk(JSON.parse(JSON.stringify(publicJwk)));
    expect(parsed).toEqual(publicJwk);
    // with its kid removed, the kid is derived again
    const { kid: _kid, ...withoutKid } = publicJwk;
    expect(await parsePublicJwk(withoutKid)).toEqual(publicJwk);
    // and the private key reads back to the same key
    expect(await parsePrivateJwk(JSON.parse(JSON.stringify(privateJwk)))).toEqual(privateJwk);
    expect(publicPart(privateJwk)).toEqual(publicJwk);
  });

  it('signs with the private key what the public key verifies', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const { privateJwk, publicJwk } = await generateSigningKey(alg);
      const jws = await new jose.CompactSign(new TextEncoder().encode('hello'))
        .setProtectedHeader({ alg })
        .sign(await jose.importJWK(privateJwk, alg));
      const { payload } = await jose.compactVerify(jws, await jose.importJWK({ ...publicJwk }, alg));
      expect(new TextDecoder().decode(payload)).toBe('hello');
    }
  });
});

describe('parsePublicJwk accepts', () => {
  it('an ES256 key with use "sig", key_ops ["verify"] and its own thumbprint as kid', async () => {
    const jwk = await publicJwkOf('ES256');
    const parsed = await parsePublicJwk({ ...jwk, use: 'sig', key_ops: ['verify'] });
    expect(parsed).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, alg: 'ES256', kid: jwk.kid });
  });

  it('an Ed25519 key without alg (alg EdDSA is derived) or with alg "Ed25519"', async () => {
    const { alg: _alg, kid: _kid, ...jwk } = await publicJwkOf('EdDSA');
    expect((await parsePublicJwk(jwk)).alg).toBe('EdDSA');
    expect((await parsePublicJwk({ ...jwk, alg: 'Ed25519' })).alg).toBe('EdDSA');
  });
});

describe('parsePublicJwk refuses', () => {
  it('a private key (member d) and says it is private key material', async () => {
    const { privateJwk } = await generateSigningKey('ES256');
    const err = await refusal({ ...privateJwk });
    expect(err.path).toBe('publicJwk');
    expect(err.message).toMatch(/private key material/);
    expect(err.message).toMatch(/\(d\)/);
    // the message never echoes the secret
    expect(err.message).not.toContain(privateJwk.d);
  });

  it('an Ed25519 private key, and every other private member (p, q, dp, dq, qi, oth, k)', async () => {
    const { privateJwk } = await generateSigningKey('EdDSA');
    expect((await refusal({ ...privateJwk })).message).toMatch(/private key material/);
    const jwk = await publicJwkOf('ES256');
    for (const member of ['p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
      const err = await refusal({ ...jwk, [member]: 'AQAB' });
      expect(err.message).toContain(`private key material (${member})`);
    }
  });

  it('an RSA key', async () => {
    const err = await refusal({ kty: 'RSA', n: RFC7638_KEY.n, e: RFC7638_KEY.e });
    // n and e are not accepted members at all
    expect(err.path).toBe('publicJwk');
    expect(err.message).toMatch(/does not accept: n, e/);
    const bare = await refusal({ kty: 'RSA' });
    expect(bare.path).toBe('publicJwk.kty');
    expect(bare.message).toMatch(/only EC P-256 \(ES256\) and OKP Ed25519 \(EdDSA\)/);
  });

  it('an oct (symmetric) key, whose k is secret material', async () => {
    const err = await refusal({ kty: 'oct', k: b64(Buffer.alloc(32, 7)) });
    expect(err.message).toMatch(/private key material \(k\)/);
    const noK = await refusal({ kty: 'oct' });
    expect(noK.path).toBe('publicJwk.kty');
  });

  it('a missing or unknown kty, and input that is not an object', async () => {
    expect((await refusal({})).path).toBe('publicJwk.kty');
    expect((await refusal({ kty: 'ec', crv: 'P-256' })).path).toBe('publicJwk.kty');
    for (const input of [null, 'a string', 42, [], undefined]) {
      const err = await refusal(input);
      expect(err.path).toBe('publicJwk');
      expect(err.reason).toBe('must be a JSON object (a public JWK)');
    }
  });

  it('an EC key on another curve (P-384, secp256k1) or without crv', async () => {
    const jwk = await publicJwkOf('ES256');
    for (const crv of ['P-384', 'P-521', 'secp256k1', 'Ed25519', undefined]) {
      const err = await refusal({ ...jwk, crv, kid: undefined });
      expect(err.path).toBe('publicJwk.crv');
      expect(err.reason).toMatch(/only P-256/);
    }
  });

  it('an OKP key on another curve (Ed448, X25519)', async () => {
    const jwk = await publicJwkOf('EdDSA');
    for (const crv of ['Ed448', 'X25519', 'P-256']) {
      const err = await refusal({ ...jwk, crv });
      expect(err.path).toBe('publicJwk.crv');
      expect(err.reason).toMatch(/only Ed25519/);
    }
  });

  it('x or y of the wrong length or encoding', async () => {
    const ec = await publicJwkOf('ES256');
    const { kid: _k1, ...ecNoKid } = ec;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ecNoKid, x: b64(Buffer.alloc(31, 1)) }, 'publicJwk.x'],
      [{ ...ecNoKid, x: b64(Buffer.alloc(33, 1)) }, 'publicJwk.x'],
      [{ ...ecNoKid, x: Buffer.alloc(32, 0xfb).toString('base64') }, 'publicJwk.x'], // standard base64 (+ / =), not base64url
      [{ ...ecNoKid, x: 12345 }, 'publicJwk.x'],
      [{ ...ecNoKid, x: undefined }, 'publicJwk.x'],
      [{ ...ecNoKid, y: b64(Buffer.alloc(31, 1)) }, 'publicJwk.y'],
      [{ ...ecNoKid, y: b64(Buffer.alloc(48, 1)) }, 'publicJwk.y'],
      [{ ...ecNoKid, y: undefined }, 'publicJwk.y'],
    ];
    const ed = await publicJwkOf('EdDSA');
    cases.push([{ ...ed, x: b64(Buffer.alloc(57, 1)) }, 'publicJwk.x']);
    cases.push([{ ...ed, x: b64(Buffer.alloc(16, 1)) }, 'publicJwk.x']);
    cases.push([{ ...ed, y: ec.y }, 'publicJwk.y']);
    for (const [input, path] of cases) {
      const err = await refusal(input);
      expect({ input, path: err.path }).toEqual({ input, path });
    }
  });

  it('a kid that is not the key’s thumbprint, and names the right one', async () => {
    const jwk = await publicJwkOf('ES256');
    const other = await publicJwkOf('ES256');
    for (const kid of [other.kid, 'my-key-1', RFC7638_THUMBPRINT, `${jwk.kid}=`]) {
      const err = await refusal({ ...jwk, kid });
      expect(err.path).toBe('publicJwk.kid');
      expect(err.reason).toContain(`(${jwk.kid})`);
    }
  });

  it('a P-256 point that is not on the curve (32-byte x and y)', async () => {
    const points: [Buffer, Buffer][] = [
      [Buffer.alloc(32, 0), Buffer.alloc(32, 0)],
      [Buffer.alloc(32, 0xff), Buffer.alloc(32, 0xff)],
      [Buffer.alloc(32, 1), Buffer.alloc(32, 2)],
    ];
    const real = await publicJwkOf('ES256');
    // a real x with its y changed by one bit
    const y = Buffer.from(real.y as string, 'base64url');
    y[31] ^= 1;
    points.push([Buffer.from(real.x as string, 'base64url'), y]);
    for (const [x, yy] of points) {
      const err = await refusal({ kty: 'EC', crv: 'P-256', x: b64(x), y: b64(yy) });
      expect(err.path).toBe('publicJwk');
      expect(err.reason).toMatch(/not on the curve/);
    }
  });

  it('unknown members such as x5c, x5u, jku and n', async () => {
    const jwk = await publicJwkOf('ES256');
    for (const member of ['x5c', 'x5u', 'x5t', 'x5t#S256', 'jku', 'n']) {
      const err = await refusal({ ...jwk, [member]: member === 'x5c' ? ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] : 'x' });
      expect(err.path).toBe('publicJwk');
      expect(err.reason).toContain(`does not accept: ${member}`);
    }
  });

  it('an alg that does not fit the key, a use other than sig, key_ops other than ["verify"]', async () => {
    const ec = await publicJwkOf('ES256');
    const ed = await publicJwkOf('EdDSA');
    for (const alg of ['ES384', 'EdDSA', 'RS256', 'none', 'HS256']) {
      expect((await refusal({ ...ec, alg })).path).toBe('publicJwk.alg');
    }
    for (const alg of ['ES256', 'Ed448', 'none']) {
      expect((await refusal({ ...ed, alg })).path).toBe('publicJwk.alg');
    }
    expect((await refusal({ ...ec, use: 'enc' })).path).toBe('publicJwk.use');
    expect((await refusal({ ...ec, key_ops: ['sign'] })).path).toBe('publicJwk.key_ops');
    expect((await refusal({ ...ec, key_ops: ['verify', 'sign'] })).path).toBe('publicJwk.key_ops');
    expect((await refusal({ ...ec, key_ops: 'verify' })).path).toBe('publicJwk.key_ops');
  });

  it('prefixes every error path with the given field name', async () => {
    const jwk = await publicJwkOf('ES256');
    const err = await refusal({ ...jwk, crv: 'P-384' }, 'input.publicJwk');
    expect(err.path).toBe('input.publicJwk.crv');
    expect(err.message).toBe(`input.publicJwk.crv: ${err.reason}`);
  });

  it('never returns members beyond the public ones', async () => {
    const jwk: PublicJwk = await parsePublicJwk({ ...(await publicJwkOf('EdDSA')), use: 'sig', key_ops: ['verify'] });
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'x']);
  });
});

describe('one key, one thumbprint', () => {
  /** The four spellings of a coordinate that decode to the same 32 bytes. */
  function spellings(coordinate: string): string[] {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(coordinate[42]);
    return [0, 1, 2, 3].map((low) => coordinate.slice(0, 42) + alphabet[(last & ~3) | low]);
  }

  it.each(['ES256', 'EdDSA'] as const)('%s: refuses non-canonical base64url spellings of the same key', async (alg) => {
    const { publicJwk } = await generateSigningKey(alg);
    const { kid: _kid, ...jwk } = publicJwk;
    const variants = spellings(jwk.x).filter((x) => x !== jwk.x);
    expect(variants).toHaveLength(3);
    for (const x of variants) {
      await expect(parsePublicJwk({ ...jwk, x })).rejects.toThrow(/publicJwk\.x: is not in canonical base64url/);
    }
    expect((await parsePublicJwk(jwk)).kid).toBe(publicJwk.kid);
  });

  it('accepts a public key as WebCrypto exports it (ext, key_ops) and drops those members', async () => {
    const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const exported = await crypto.subtle.exportKey('jwk', publicKey);
    expect(exported).toMatchObject({ ext: true, key_ops: ['verify'] });
    const parsed = await parsePublicJwk(exported);
    expect(Object.keys(parsed).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'x', 'y']);
  });
});
