import { createHash, createHmac } from 'node:crypto';
import * as jose from 'jose';
import { superuserQuery } from '../support/database.js';
import { newKey, signRaw, type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';

/** SPEC 2: every refusal answers this, whatever the reason. */
const GENERIC = 'authentication failed: send a valid bearer token signed by an active key';
const ME = '{ me { id } }';

const enc = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface AuditRow {
  idx: string;
  action: string;
  subject_id: string | null;
  actor_principal_id: string | null;
  canonical: string;
}

describe('authentication (SPEC 2) over HTTP', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** Valid claims for the app's audience, now. */
  const claims = (extra: Record<string, unknown> = {}) => {
    const now = nowSeconds();
    return { aud: app.config.audience, iat: now, exp: now + 120, ...extra };
  };

  /** POST /graphql with exactly this Authorization header (or none). */
  async function postWithHeader(authorization: string | null, query = ME): Promise<GraphqlResponse> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, ...((await response.json()) as Omit<GraphqlResponse, 'status'>) };
  }

  async function lastAuditIndex(): Promise<number> {
    const [row] = await superuserQuery<{ max: string | null }>(app.db, 'SELECT max(idx)::text AS max FROM audit_event');
    return row.max === null ? -1 : Number(row.max);
  }

  async function auditSince(index: number): Promise<AuditRow[]> {
    return superuserQuery<AuditRow>(
      app.db,
      'SELECT idx::text, action, subject_id, actor_principal_id, canonical FROM audit_event WHERE idx > $1 ORDER BY idx',
      [index],
    );
  }

  /**
   * Sends `{ me { id } }` with the Authorization header (a token is sent as `Bearer <token>`),
   * asserts the generic UNAUTHENTICATED answer and exactly one `auth.refused` audit event whose
   * reason matches, that never holds the token; returns the event.
   */
  async function expectRefused(
    auth: { token: string } | { header: string | null },
    reason: RegExp,
    /** what the caller is told in extensions.reason — its own mistake; absent where telling would reveal keys or principals */
    told?: RegExp,
  ): Promise<{ event: Record<string, any>; row: AuditRow }> {
    const header = 'token' in auth ? `Bearer ${auth.token}` : auth.header;
    const before = await lastAuditIndex();
    const res = await postWithHeader(header);

    // refused before anything executes: HTTP 401, no data at all
    expect(res.status).toBe(401);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors![0].message).toBe(GENERIC);
    if (told) expect(res.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: expect.stringMatching(told) });
    else expect(res.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED' });

    const rows = await auditSince(before);
    expect(rows.map((r) => r.action)).toEqual(['auth.refused']);
    const [row] = rows;
    expect(row.actor_principal_id).toBeNull();
    const event = JSON.parse(row.canonical) as Record<string, any>;
    expect(event).toMatchObject({ action: 'auth.refused', actor: null, index: Number(row.idx) });
    // a kid is kept only when it names a registered key; any other kid only as its SHA-256
    expect(Object.keys(event.data).sort()).toEqual(event.data.kidSha256 ? ['kid', 'kidSha256', 'reason'] : ['kid', 'reason']);
    if (event.data.kidSha256) expect(event.data.kid).toBeNull();
    expect(event.data.reason).toMatch(reason);
    // the message stays generic; only a caller's own mistake is named, in extensions.reason
    expect(res.errors![0].message).not.toContain(event.data.reason);

    // the token never reaches the audit log, neither whole nor any of its longer segments
    const token = header?.replace(/^\S+\s+/, '') ?? '';
    if (token.length >= 12) {
      expect(row.canonical).not.toContain(token);
      for (const segment of token.split('.').filter((s) => s.length >= 24)) {
        expect(row.canonical).not.toContain(segment);
      }
    }
    return { event, row };
  }

  async function expectAccepted(auth: TestKey | string, principalId: string): Promise<void> {
    const before = await lastAuditIndex();
    const res = await app.gql<{ me: { id: string } }>(ME, {}, auth);
    expect(res.errors).toBeUndefined();
    expect(res.data!.me.id).toBe(principalId);
    expect((await auditSince(before)).filter((r) => r.action === 'auth.refused')).toEqual([]);
  }

  async function mutate(query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await app.gql(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  }

  describe('accepts', () => {
    it('a valid token of the bootstrap administrator', async () => {
      await expectAccepted(app.admin, app.adminId);
    });

    it('a token inside the 60 s clock skew (expired 30 s ago; issued 30 s ahead)', async () => {
      const now = nowSeconds();
      await expectAccepted(await signRaw(app.admin, { typ: 'JWT' }, claims({ iat: now - 150, exp: now - 30 })), app.adminId);
      await expectAccepted(await signRaw(app.admin, { typ: 'JWT' }, claims({ iat: now + 30, exp: now + 150 })), app.adminId);
      await expectAccepted(await signRaw(app.admin, {}, claims({ nbf: now + 30 })), app.adminId);
    });

    it('a lifetime of exactly 300 s, and no typ', async () => {
      const now = nowSeconds();
      await expectAccepted(await signRaw(app.admin, {}, claims({ iat: now - 10, exp: now + 290 })), app.adminId);
    });

    it('sub equal to its own principal id', async () => {
      await expectAccepted(await tokenFor(app.admin, { subject: app.adminId }), app.adminId);
      await expectAccepted(await signRaw(app.admin, { typ: 'JWT' }, claims({ sub: app.adminId })), app.adminId);
    });

    it('aud as a one-element array', async () => {
      await expectAccepted(await signRaw(app.admin, {}, claims({ aud: [app.config.audience] })), app.adminId);
    });

    it('an EdDSA (Ed25519) key', async () => {
      const { createMember } = await mutate(`mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`, {
        i: { name: 'Ed25519 Processor', kind: 'CARD_PROCESSOR' },
      });
      const key = await newKey('EdDSA');
      const { createPrincipal } = await mutate(`mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id keys { kid status } } }`, {
        i: { memberId: createMember.id, name: 'ed', roles: ['SCREENER'], publicJwk: key.publicJwk },
      });
      expect(createPrincipal.keys).toEqual([{ kid: key.kid, status: 'ACTIVE' }]);
      await expectAccepted(key, createPrincipal.id);
      await expectAccepted(await tokenFor(key, { subject: createPrincipal.id }), createPrincipal.id);
    });

    it('an added (rotated) key, next to the first', async () => {
      const { principalId, key } = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
      const second = await newKey('EdDSA');
      const res = await app.gql(`mutation($p: ID!, $k: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $k) { kid status } }`, {
        p: principalId,
        k: second.publicJwk,
      }, key);
      expect(res.errors).toBeUndefined();
      expect(res.data!.addPrincipalKey).toEqual({ kid: second.kid, status: 'ACTIVE' });
      await expectAccepted(key, principalId);
      await expectAccepted(second, principalId);
    });

    it('the scheme name in any case ("bearer")', async () => {
      const res = await postWithHeader(`bearer ${await tokenFor(app.admin)}`);
      expect(res.errors).toBeUndefined();
      expect(res.data!.me.id).toBe(app.adminId);
    });
  });

  describe('refuses with UNAUTHENTICATED, the generic message, and one auth.refused event', () => {
    it('no Authorization header', async () => {
      const { event } = await expectRefused({ header: null }, /^missing Authorization header$/, /^missing Authorization header$/);
      expect(event.data.kid).toBeNull();
      expect(event.subject).toBeNull();
    });

    it('an empty Authorization header', async () => {
      await expectRefused({ header: '' }, /^(missing Authorization header|Authorization is not "Bearer <token>")$/, /^(missing Authorization header|Authorization is not "Bearer <token>")$/);
    });

    it('a scheme other than Bearer (Basic, Token, Bearer without a token, a bare token)', async () => {
      const token = await tokenFor(app.admin);
      for (const header of [`Basic ${Buffer.from('admin:admin').toString('base64')}`, `Token ${token}`, `JWT ${token}`, 'Bearer', 'Bearer ', token]) {
        await expectRefused({ header }, /^Authorization is not "Bearer <token>"$/, /^Authorization is not "Bearer <token>"$/);
      }
    });

    it('two tokens in one header', async () => {
      const token = await tokenFor(app.admin);
      await expectRefused({ header: `Bearer ${token} ${token}` }, /^Authorization is not "Bearer <token>"$/, /^Authorization is not "Bearer <token>"$/);
      await expectRefused({ header: `Bearer ${token}, Bearer ${token}` }, /^Authorization is not "Bearer <token>"$/, /^Authorization is not "Bearer <token>"$/);
    });

    it('a garbage token', async () => {
      await expectRefused({ token: 'this-is-not-a-jwt-at-all-0123456789' }, /^not a compact JWS$/, /^not a compact JWS$/);
    });

    it('malformed base64url segments', async () => {
      await expectRefused({ token: '!!!!.@@@@.####' }, /^malformed token header$/, /^malformed token header$/);
      await expectRefused({ token: `${enc('{"alg":"ES256",')}.${enc(claims())}.AAAA` }, /^malformed token header$/, /^malformed token header$/);
    });

    it('a payload segment that is not base64url JSON, under a valid header', async () => {
      const [h, , s] = (await tokenFor(app.admin)).split('.');
      // jose checks the signature over the segments as sent, before decoding the payload
      const { event } = await expectRefused({ token: `${h}.%%%%.${s}` }, /^verification failed \(ERR_JWS_(INVALID|SIGNATURE_VERIFICATION_FAILED)\)$/);
      expect(event.data.kid).toBe(app.admin.kid);
      expect(event.subject).toBeNull();
    });

    it('alg none (unsigned)', async () => {
      const token = `${enc({ alg: 'none', kid: app.admin.kid, typ: 'JWT' })}.${enc(claims())}.`;
      const { event } = await expectRefused({ token }, /^alg not allowed: none$/, /^alg not allowed: none$/);
      expect(event.data.kid).toBeNull();
      expect(event.subject).toBeNull();
    });

    it('alg none without a kid', async () => {
      await expectRefused({ token: `${enc({ alg: 'none' })}.${enc(claims())}.` }, /^alg not allowed: none$/, /^alg not allowed: none$/);
    });

    it('alg "None"', async () => {
      await expectRefused({ token: `${enc({ alg: 'None', kid: app.admin.kid })}.${enc(claims())}.` }, /^alg not allowed: None$/, /^alg not allowed: None$/);
    });

    it('alg "NONE"', async () => {
      await expectRefused({ token: `${enc({ alg: 'NONE', kid: app.admin.kid })}.${enc(claims())}.` }, /^alg not allowed: NONE$/, /^alg not allowed: NONE$/);
    });

    it('HS256 signed with the public key JSON as the HMAC secret', async () => {
      const signingInput = `${enc({ alg: 'HS256', kid: app.admin.kid, typ: 'JWT' })}.${enc(claims({ sub: app.adminId }))}`;
      for (const secret of [JSON.stringify(app.admin.publicJwk), app.admin.publicJwk.x]) {
        const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
        await expectRefused({ token: `${signingInput}.${mac}` }, /^alg not allowed: HS256$/, /^alg not allowed: HS256$/);
      }
    });

    it('RS256 with an RSA key', async () => {
      const { privateKey } = await jose.generateKeyPair('RS256');
      const token = await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: app.admin.kid, typ: 'JWT' }).sign(privateKey);
      await expectRefused({ token }, /^alg not allowed: RS256$/, /^alg not allowed: RS256$/);
    });

    it('an allowed alg that is not the key’s (EdDSA header on the ES256 admin kid)', async () => {
      const ed = await newKey('EdDSA');
      const token = await signRaw(ed, { kid: app.admin.kid }, claims());
      const { event } = await expectRefused({ token }, /^alg does not match the key$/);
      expect(event.subject).toBeNull();
    });

    it('an unknown kid (a fresh key never registered)', async () => {
      const stranger = await newKey();
      const { event } = await expectRefused({ token: await tokenFor(stranger) }, /^unknown or revoked key$/);
      // an unregistered kid is client-chosen text: only its hash is kept
      expect(event.data.kid).toBeNull();
      expect(event.data.kidSha256).toBe(createHash('sha256').update(stranger.kid).digest('hex'));
      expect(event.subject).toBeNull();
    });

    it('a registered kid with a signature by another key', async () => {
      const stranger = await newKey();
      const token = await signRaw(stranger, { kid: app.admin.kid, typ: 'JWT' }, claims({ sub: app.adminId }));
      const { event } = await expectRefused({ token }, /^verification failed \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)$/);
      expect(event.data.kid).toBe(app.admin.kid);
      // the kid is only a claim until a signature proves it: the admin is not named as who tried
      expect(event.subject).toBeNull();
    });

    it('a kid with path traversal text', async () => {
      const { event } = await expectRefused({ token: await signRaw(app.admin, { kid: '../../../../etc/passwd' }, claims()) }, /^kid missing or malformed$/, /^kid missing or malformed$/);
      expect(event.data.kid).toBeNull();
    });

    it('a kid with SQL injection text', async () => {
      const kid = `${app.admin.kid}' OR '1'='1`;
      const { event } = await expectRefused({ token: await signRaw(app.admin, { kid }, claims()) }, /^kid missing or malformed$/, /^kid missing or malformed$/);
      expect(event.data.kid).toBeNull();
      expect(JSON.stringify(event)).not.toContain("OR '1'='1");
    });

    it('a kid with SQL injection text that fits the kid alphabet (no quotes)', async () => {
      await expectRefused({ token: await signRaw(app.admin, { kid: 'x--DROP_TABLE_principal_key--' }, claims()) }, /^unknown or revoked key$/);
      const [{ n }] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM principal_key');
      expect(n).toBeGreaterThan(0);
    });

    it('a very long kid (2000 characters)', async () => {
      const { event } = await expectRefused({ token: await signRaw(app.admin, { kid: 'A'.repeat(2000) }, claims()) }, /^kid missing or malformed$/, /^kid missing or malformed$/);
      expect(event.data.kid).toBeNull();
    });

    it('a missing kid', async () => {
      await expectRefused({ token: await signRaw(app.admin, { kid: undefined }, claims()) }, /^kid missing or malformed$/, /^kid missing or malformed$/);
    });

    it('a header with an embedded jwk', async () => {
      const attacker = await newKey();
      const token = await signRaw(attacker, { kid: attacker.kid, jwk: attacker.publicJwk }, claims());
      await expectRefused({ token }, /^header member not allowed: jwk$/, /^header member not allowed: jwk$/);
      // the same with the registered kid and a correct signature: the member alone refuses it
      await expectRefused({ token: await signRaw(app.admin, { jwk: app.admin.publicJwk }, claims()) }, /^header member not allowed: jwk$/, /^header member not allowed: jwk$/);
    });

    it('a header with jku', async () => {
      await expectRefused({ token: await signRaw(app.admin, { jku: 'https://attacker.example/jwks.json' }, claims()) }, /^header member not allowed: jku$/, /^header member not allowed: jku$/);
    });

    it('a header with x5u', async () => {
      await expectRefused({ token: await signRaw(app.admin, { x5u: 'https://attacker.example/cert.pem' }, claims()) }, /^header member not allowed: x5u$/, /^header member not allowed: x5u$/);
    });

    it('a header with x5c', async () => {
      const x5c = [Buffer.from('not really a certificate but base64 DER').toString('base64')];
      await expectRefused({ token: await signRaw(app.admin, { x5c }, claims()) }, /^header member not allowed: x5c$/, /^header member not allowed: x5c$/);
    });

    it('a header with crit', async () => {
      const key = await jose.importJWK(app.admin.privateJwk, 'ES256');
      const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
        .setProtectedHeader({ alg: 'ES256', kid: app.admin.kid, crit: ['urn:cordon:x'], 'urn:cordon:x': true } as jose.CompactJWSHeaderParameters)
        .sign(key, { crit: { 'urn:cordon:x': true } });
      await expectRefused({ token }, /^header member not allowed: .*\bcrit\b/, /^header member not allowed: .*\bcrit\b/);
    });

    it('an expired token (exp 61 s in the past, beyond the 60 s skew)', async () => {
      const now = nowSeconds();
      const { event, row } = await expectRefused(
        { token: await signRaw(app.admin, {}, claims({ iat: now - 200, exp: now - 61 })) },
        /^verification failed \(ERR_JWT_EXPIRED\)$/,
        /^expired \(exp is past, beyond the 60 s clock skew\)$/,
      );
      expect(event.data.kid).toBe(app.admin.kid);
      // the signature verified, so the key's principal is named as the subject
      expect(event.subject).toBe(app.adminId);
      expect(row.subject_id).toBe(app.adminId);
    });

    it('a token that expired long ago', async () => {
      await expectRefused({ token: await tokenFor(app.admin, { now: nowSeconds() - 86_400 }) }, /^verification failed \(ERR_JWT_EXPIRED\)$/, /^expired \(exp is past/);
    });

    it('iat in the future beyond the 60 s skew', async () => {
      const now = nowSeconds();
      await expectRefused({ token: await signRaw(app.admin, {}, claims({ iat: now + 120, exp: now + 240 })) }, /^issued in the future$/, /^issued in the future$/);
    });

    it('nbf not yet valid', async () => {
      const now = nowSeconds();
      await expectRefused(
        { token: await signRaw(app.admin, {}, claims({ iat: now, nbf: now + 120, exp: now + 240 })) },
        /^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$/,
        /^claim refused: .*nbf/,
      );
    });

    it('a lifetime (exp - iat) over 300 s', async () => {
      const now = nowSeconds();
      await expectRefused({ token: await signRaw(app.admin, {}, claims({ iat: now - 10, exp: now + 291 })) }, /^lifetime over 300 seconds$/, /^lifetime over 300 seconds$/);
    });

    it('a year-long token', async () => {
      await expectRefused({ token: await tokenFor(app.admin, { lifetimeSeconds: 365 * 86_400 }) }, /^lifetime over 300 seconds$/, /^lifetime over 300 seconds$/);
    });

    it('exp not after iat', async () => {
      const now = nowSeconds();
      await expectRefused({ token: await signRaw(app.admin, {}, claims({ iat: now + 20, exp: now + 10 })) }, /^exp must be after iat$/, /^exp must be after iat$/);
    });

    it('a missing exp', async () => {
      const { exp: _exp, ...rest } = claims();
      await expectRefused({ token: await signRaw(app.admin, {}, rest) }, /^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$/, /^claim refused: /);
    });

    it('a missing iat', async () => {
      const { iat: _iat, ...rest } = claims();
      await expectRefused({ token: await signRaw(app.admin, {}, rest) }, /^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$/, /^claim refused: /);
    });

    it('a missing aud', async () => {
      const { aud: _aud, ...rest } = claims();
      await expectRefused({ token: await signRaw(app.admin, {}, rest) }, /^verification failed \(ERR_JWT_CLAIM_VALIDATION_FAILED\)$/, /^claim refused: /);
    });

    it('a wrong aud', async () => {
      await expectRefused({ token: await tokenFor(app.admin, { audience: 'another-exchange' }) }, /^wrong audience$/, /^wrong audience: aud must be "cordon"$/);
    });

    it('an aud array with an extra audience', async () => {
      await expectRefused({ token: await signRaw(app.admin, {}, claims({ aud: [app.config.audience, 'another-exchange'] })) }, /^wrong audience$/, /^wrong audience: aud must be "cordon"$/);
    });

    it('a sub of another principal', async () => {
      const other = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
      // the member's key claiming to be the admin …
      const { event } = await expectRefused({ token: await tokenFor(other.key, { subject: app.adminId }) }, /^sub is not the key owner$/, /^sub is not the key owner$/);
      expect(event.data.kid).toBe(other.key.kid);
      expect(event.subject).toBe(other.principalId);
      // … and the admin's key claiming to be the member
      await expectRefused({ token: await tokenFor(app.admin, { subject: other.principalId }) }, /^sub is not the key owner$/, /^sub is not the key owner$/);
      await expectAccepted(other.key, other.principalId);
    });

    it('a revoked key', async () => {
      const { principalId, key } = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
      await expectAccepted(key, principalId);
      const { revokePrincipalKey } = await mutate(`mutation($k: ID!, $r: String!) { revokePrincipalKey(kid: $k, reason: $r) { kid status } }`, {
        k: key.kid,
        r: 'laptop stolen',
      });
      expect(revokePrincipalKey).toEqual({ kid: key.kid, status: 'REVOKED' });
      const { event } = await expectRefused({ token: await tokenFor(key) }, /^unknown or revoked key$/);
      expect(event.data.kid).toBe(key.kid);
      expect(event.subject).toBeNull();
    });

    it('a token made before its key was revoked', async () => {
      const { principalId, key } = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
      const token = await tokenFor(key);
      await expectAccepted(token, principalId);
      await mutate(`mutation($k: ID!, $r: String!) { revokePrincipalKey(kid: $k, reason: $r) { kid } }`, { k: key.kid, r: 'rotated' });
      await expectRefused({ token }, /^unknown or revoked key$/);
    });

    it('a key of a suspended member', async () => {
      const { memberId, principalId, key } = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
      await expectAccepted(key, principalId);
      const { suspendMember } = await mutate(`mutation($id: ID!, $r: String!) { suspendMember(id: $id, reason: $r) { id suspended } }`, {
        id: memberId,
        r: 'unpaid dues',
      });
      expect(suspendMember).toEqual({ id: memberId, suspended: true });
      const { event } = await expectRefused({ token: await tokenFor(key) }, /^member suspended$/);
      expect(event.data.kid).toBe(key.kid);
      // the signature verified, so the refused principal is named
      expect(event.subject).toBe(principalId);
    });

    it('a key of a disabled principal', async () => {
      const { principalId, key } = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['CONTRIBUTOR']);
      await expectAccepted(key, principalId);
      const { disablePrincipal } = await mutate(`mutation($id: ID!, $r: String!) { disablePrincipal(id: $id, reason: $r) { id } }`, {
        id: principalId,
        r: 'left the company',
      });
      expect(disablePrincipal).toEqual({ id: principalId });
      const { event, row } = await expectRefused({ token: await tokenFor(key) }, /^principal disabled$/);
      expect(event.subject).toBe(principalId);
      expect(row.subject_id).toBe(principalId);
    });

    it('a token with typ cordon-statement+jwt', async () => {
      await expectRefused({ token: await signRaw(app.admin, { typ: 'cordon-statement+jwt' }, claims()) }, /^typ must be JWT when given$/, /^typ must be JWT when given$/);
    });

    it('a token of 10 KB (correctly signed, padded claims)', async () => {
      const token = await signRaw(app.admin, { typ: 'JWT' }, claims({ pad: 'x'.repeat(7_400) }));
      expect(token.length).toBeGreaterThanOrEqual(10_000);
      expect(token.length).toBeLessThan(11_000);
      const { event } = await expectRefused({ token }, /^token too long$/, /^token too long$/);
      expect(event.data.kid).toBeNull();
    });
  });

  describe('one refusal per request', () => {
    it('audits a request asking for several guarded fields once', async () => {
      const before = await lastAuditIndex();
      const res = await postWithHeader(`Bearer ${await tokenFor(await newKey())}`, '{ a: me { id } b: me { name } members { id } }');
      expect(res.data).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      for (const error of res.errors!) {
        expect(error.extensions?.code).toBe('UNAUTHENTICATED');
        expect(error.message).toBe(GENERIC);
      }
      expect((await auditSince(before)).map((r) => r.action)).toEqual(['auth.refused']);
    });

    it('keeps the audit log gapless after all the refusals', async () => {
      const rows = await superuserQuery<{ idx: string }>(app.db, 'SELECT idx FROM audit_event ORDER BY idx');
      expect(rows.map((r) => Number(r.idx))).toEqual(rows.map((_, i) => i));
      const refused = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE action = 'auth.refused'`);
      expect(refused.length).toBeGreaterThan(0);
      for (const { canonical } of refused) {
        // no JWS (three base64url segments) and no JWT header prefix anywhere in the log
        expect(canonical).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\./);
      }
    });
  });
});
