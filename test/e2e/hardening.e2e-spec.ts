import { Writable } from 'node:stream';
import { createLogger } from '../../apps/api/src/common/logger.js';
import { superuserQuery } from '../support/database.js';
import { newKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, post, startTestApp, type TestApp } from '../support/server.js';

/** Findings of the foundation review, each shown through HTTP. */
describe('hardening of the foundation', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses any operation without a valid token before it runs, introspection and __typename included', async () => {
    for (const query of ['{ __typename }', '{ __schema { queryType { name } } }']) {
      const res = await post(app.url, { query });
      expect(res.status).toBe(401);
      expect(res.data).toBeUndefined();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      const ok = await app.gql(query);
      expect(ok.errors).toBeUndefined();
    }
  });

  it('refuses a key sent again under another spelling of the same coordinates (one key, one kid)', async () => {
    const key = await newKey('ES256');
    const { kid: _kid, ...jwk } = key.publicJwk;
    const member = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(jwk.x[42]);
    const variant = { ...jwk, x: jwk.x.slice(0, 42) + alphabet[last ^ 1] };
    const res = await app.gql('mutation($p: ID!, $k: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $k) { kid } }', {
      p: member.principalId,
      k: variant,
    });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/^publicJwk\.x: is not in canonical base64url/);
  });

  it('accepts a public key exactly as WebCrypto exports it', async () => {
    const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const exported = await crypto.subtle.exportKey('jwk', publicKey);
    const member = await app.gql('mutation { createMember(input: { name: "WebCrypto Exchange", kind: CRYPTO_EXCHANGE }) { id } }');
    const res = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { keys { kid alg } } }', {
      i: { memberId: member.data!.createMember.id, name: 'browser', roles: ['SCREENER'], publicJwk: exported },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.createPrincipal.keys[0].alg).toBe('ES256');
  });

  it('audits a refused role (FORBIDDEN) as access.denied with the caller and the operation', async () => {
    const screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const res = await app.gql('mutation { createMember(input: { name: "Nope", kind: COORDINATOR }) { id } }', {}, screener.key);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const [row] = await superuserQuery<{ action: string; actor_principal_id: string; canonical: string }>(
      app.db,
      'SELECT action, actor_principal_id, canonical FROM audit_event ORDER BY idx DESC LIMIT 1',
    );
    expect(row).toMatchObject({ action: 'access.denied', actor_principal_id: screener.principalId });
    expect(JSON.parse(row.canonical).data.denied).toEqual([{ path: 'createMember', reason: 'requires one of the roles ADMIN' }]);
  });

  it('does not honour CURATOR or ADMIN stored for a non-coordinator principal (defence in depth)', async () => {
    const rogue = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    await superuserQuery(app.db, `UPDATE principal SET roles = ARRAY['SCREENER','ADMIN'] WHERE id = $1`, [rogue.principalId]);
    const res = await app.gql('mutation { createMember(input: { name: "Rogue", kind: COORDINATOR }) { id } }', {}, rogue.key);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('never echoes an invalid variable’s value (it may hold a private key)', async () => {
    const key = await newKey();
    const secret = key.privateJwk.d;
    const res = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: app.adminId, roles: ['SCREENER'], publicJwk: key.privateJwk },
    });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toBe('Variable "$i" has an invalid value: Field "name" of required type "String!" was not provided.');
    expect(JSON.stringify(res)).not.toContain(secret);
  });

  it('answers a literal argument of the wrong enum value with BAD_USER_INPUT', async () => {
    const res = await app.gql('mutation { createMember(input: { name: "X", kind: BANK }) { id } }');
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/BANK/);
  });
});

describe('logs', () => {
  it('never hold a token, a private key, or a query string', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    // The production logger (same redaction and serializers), at its most talkative.
    const app = await startTestApp({}, { logger: createLogger('trace', sink) });
    try {
      const key = await newKey();
      const token = await tokenFor(app.admin);
      await post(app.url, { query: '{ me { id } }' }, token);
      await post(app.url, { query: '{ me { id } }' }, await tokenFor(key)); // refused
      await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
        i: { memberId: app.adminId, name: 'x', roles: ['SCREENER'], publicJwk: key.privateJwk },
      });
      await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ me { id } }')}&variables=secretvalue`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const all = lines.join('\n');
      expect(lines.length).toBeGreaterThan(5);
      expect(all).toContain('request completed');
      expect(all).not.toContain(token.split('.')[2]);
      expect(all).not.toContain(token.split('.')[1]);
      expect(all).not.toContain(key.privateJwk.d);
      expect(all).not.toContain('secretvalue');
      expect(all).toContain('authentication refused');
    } finally {
      await app.stop();
    }
  });
});

describe('start-up without a way in', () => {
  it('warns, saying how to make the first key, when the database has no principal and no bootstrap key is set', async () => {
    const { loadConfig } = await import('@app/config');
    const { startServer } = await import('../../apps/api/src/server.js');
    const { createTestDatabase } = await import('../support/database.js');
    const run = async (env: Record<string, string>) => {
      const db = await createTestDatabase();
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      });
      const server = await startServer(loadConfig({ PORT: '0', DATABASE_URL: db.url, ...env }), { logger: createLogger('info', sink) });
      await server.close();
      await db.drop();
      return lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && /CORDON_BOOTSTRAP_ADMIN_JWK/.test(l.msg));
    };
    const warned = await run({});
    expect(warned).toHaveLength(1);
    expect(warned[0].msg).toMatch(/nobody can sign in: make a key with `npm run -s cordon -- keygen --out keys\/admin\.json`/);
    // With a bootstrap key, no warning.
    const key = await newKey();
    expect(await run({ CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(key.publicJwk) })).toEqual([]);
  });
});
