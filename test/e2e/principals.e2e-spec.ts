import { generateKeyPairSync } from 'node:crypto';
import { superuserQuery } from '../support/database.js';
import { directoryCounts, expectError, refusedWithoutChange as refusedWithoutChangeIn } from '../support/refusals.js';
import { newKey, type TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';

interface Party {
  memberId: string;
  principalId: string;
  key: TestKey;
}

const CREATE_PRINCIPAL = `mutation($i: CreatePrincipalInput!) {
  createPrincipal(input: $i) { id name roles disabled member { id kind } keys { kid alg status publicJwk revokedAt revokedReason } }
}`;
const ADD_KEY = `mutation($p: ID!, $jwk: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $jwk) { kid alg status publicJwk revokedAt revokedReason } }`;
const REVOKE_KEY = `mutation($kid: ID!, $reason: String!) { revokePrincipalKey(kid: $kid, reason: $reason) { kid status revokedAt revokedReason } }`;
const SET_ROLES = `mutation($id: ID!, $roles: [Role!]!) { setPrincipalRoles(id: $id, roles: $roles) { id roles } }`;
const DISABLE = `mutation($id: ID!, $reason: String!) { disablePrincipal(id: $id, reason: $reason) { id disabled } }`;
const ENABLE = `mutation($id: ID!) { enablePrincipal(id: $id) { id disabled } }`;
const ME = '{ me { id name roles disabled member { id } keys { kid alg status revokedReason revokedAt lastUsedAt } } }';
const PRINCIPAL = 'query($id: ID!) { principal(id: $id) { id name member { id } keys { kid status } } }';
const UNKNOWN_UUID = '0f0e0d0c-0b0a-4909-8807-060504030201';

describe('principals and keys', () => {
  let app: TestApp;
  let adminMemberId: string;
  let cardMemberId: string;
  let exchangeMemberId: string;
  let coordinatorMemberId: string;

  beforeAll(async () => {
    app = await startTestApp();
    adminMemberId = (await app.gql('{ me { member { id } } }')).data!.me.member.id;
    const mk = async (name: string, kind: string) => {
      const res = await app.gql(`mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`, { i: { name, kind } });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!.createMember.id as string;
    };
    cardMemberId = await mk('Card Co', 'CARD_PROCESSOR');
    exchangeMemberId = await mk('Exchange Co', 'CRYPTO_EXCHANGE');
    coordinatorMemberId = await mk('Hotline Co', 'COORDINATOR');
  });
  afterAll(async () => {
    await app?.stop();
  });

  const counts = () => directoryCounts(app);
  const refusedWithoutChange = (run: () => Promise<GraphqlResponse>, code: string, message?: string | RegExp) =>
    refusedWithoutChangeIn(app, run, code, message);

  async function createPrincipal(memberId: string, name: string, roles: string[], key?: TestKey): Promise<Party> {
    const k = key ?? (await newKey());
    const res = await app.gql(CREATE_PRINCIPAL, { i: { memberId, name, roles, publicJwk: k.publicJwk } });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return { memberId, principalId: res.data!.createPrincipal.id, key: k };
  }

  async function eventsFor(subjectId: string, action: string) {
    return superuserQuery<{ actor_principal_id: string | null; canonical: string }>(
      app.db,
      'SELECT actor_principal_id, canonical FROM audit_event WHERE subject_id = $1 AND action = $2 ORDER BY idx',
      [subjectId, action],
    );
  }

  async function me(key: TestKey) {
    return app.gql(ME, {}, key);
  }

  describe('createPrincipal', () => {
    it.each(['ES256', 'EdDSA'] as const)('accepts an %s public key; the new principal signs in with it', async (alg) => {
      const key = await newKey(alg);
      const before = await counts();
      const res = await app.gql(CREATE_PRINCIPAL, {
        i: { memberId: cardMemberId, name: `client-${alg}`, roles: ['CONTRIBUTOR', 'SCREENER'], publicJwk: key.publicJwk },
      });
      expect(res.errors).toBeUndefined();
      const p = res.data!.createPrincipal;
      expect(p).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: `client-${alg}`,
        roles: ['SCREENER', 'CONTRIBUTOR'],
        disabled: false,
        member: { id: cardMemberId, kind: 'CARD_PROCESSOR' },
        keys: [{ kid: key.kid, alg, status: 'ACTIVE', publicJwk: key.publicJwk, revokedAt: null, revokedReason: null }],
      });
      expect(key.publicJwk).not.toHaveProperty('d');
      expect(await counts()).toEqual({
        ...before,
        principal: before.principal + 1,
        principal_key: before.principal_key + 1,
        audit_event: before.audit_event + 1,
      });
      const events = await eventsFor(p.id, 'principal.create');
      expect(events).toHaveLength(1);
      expect(events[0].actor_principal_id).toBe(app.adminId);
      expect(JSON.parse(events[0].canonical).data).toEqual({
        memberId: cardMemberId,
        name: `client-${alg}`,
        roles: ['SCREENER', 'CONTRIBUTOR'],
        kid: key.kid,
        alg,
      });

      const signedIn = await me(key);
      expect(signedIn.errors).toBeUndefined();
      expect(signedIn.data!.me).toMatchObject({ id: p.id, name: `client-${alg}`, roles: ['SCREENER', 'CONTRIBUTOR'], member: { id: cardMemberId } });
    });

    it('accepts CURATOR and ADMIN for a principal of a COORDINATOR member, and AUDITOR for any member', async () => {
      const curator = await createPrincipal(coordinatorMemberId, 'hotline-admin', ['ADMIN', 'CURATOR']);
      expect((await me(curator.key)).data!.me.roles).toEqual(['CURATOR', 'ADMIN']);
      const auditor = await createPrincipal(exchangeMemberId, 'exchange-auditor', ['AUDITOR']);
      expect((await me(auditor.key)).data!.me.roles).toEqual(['AUDITOR']);
    });

    it('refuses a JWK carrying the private key (d): nothing is stored and d is written nowhere', async () => {
      const key = await newKey('ES256');
      const res = await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'leaky', roles: ['SCREENER'], publicJwk: key.privateJwk } }),
        'BAD_USER_INPUT',
        /^input\.publicJwk: contains private key material \(d\)/,
      );
      expect(res.errors![0].message).not.toContain(key.privateJwk.d);
      expect(await superuserQuery(app.db, 'SELECT 1 FROM principal_key WHERE kid = $1', [key.kid])).toHaveLength(0);
      expect(await superuserQuery(app.db, `SELECT 1 FROM principal WHERE name = 'leaky'`)).toHaveLength(0);
      expect(await superuserQuery(app.db, 'SELECT idx FROM audit_event WHERE strpos(canonical, $1) > 0', [key.privateJwk.d])).toHaveLength(0);
      expect(await superuserQuery(app.db, 'SELECT kid FROM principal_key WHERE strpos(public_jwk::text, $1) > 0', [key.privateJwk.d])).toHaveLength(0);
      // The key cannot sign in.
      expectError(await me(key), 'UNAUTHENTICATED');
    });

    it('refuses an Ed25519 private JWK too, and any other private member', async () => {
      const key = await newKey('EdDSA');
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'leaky-ed', roles: ['SCREENER'], publicJwk: key.privateJwk } }),
        'BAD_USER_INPUT',
        /^input\.publicJwk: contains private key material \(d\)/,
      );
      const other = await newKey('ES256');
      await refusedWithoutChange(
        () =>
          app.gql(CREATE_PRINCIPAL, {
            i: { memberId: cardMemberId, name: 'leaky-k', roles: ['SCREENER'], publicJwk: { ...other.publicJwk, k: 'c2VjcmV0' } },
          }),
        'BAD_USER_INPUT',
        /^input\.publicJwk: contains private key material \(k\)/,
      );
      expect(await superuserQuery(app.db, 'SELECT idx FROM audit_event WHERE strpos(canonical, $1) > 0', [key.privateJwk.d])).toHaveLength(0);
    });

    it('refuses RSA keys and other curves, naming input.publicJwk', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'rsa', roles: ['SCREENER'], publicJwk: rsa } }),
        'BAD_USER_INPUT',
        /^input\.publicJwk/,
      );
      await refusedWithoutChange(
        () =>
          app.gql(CREATE_PRINCIPAL, {
            i: { memberId: cardMemberId, name: 'rsa', roles: ['SCREENER'], publicJwk: { kty: 'RSA', alg: 'RS256' } },
          }),
        'BAD_USER_INPUT',
        'input.publicJwk.kty: only EC P-256 (ES256) and OKP Ed25519 (EdDSA) public keys are accepted',
      );
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'p384', roles: ['SCREENER'], publicJwk: p384 } }),
        'BAD_USER_INPUT',
        'input.publicJwk.crv: only P-256 is accepted for EC keys (ES256)',
      );
      const okp = (await newKey('EdDSA')).publicJwk;
      await refusedWithoutChange(
        () =>
          app.gql(CREATE_PRINCIPAL, {
            i: { memberId: cardMemberId, name: 'wrong-kid', roles: ['SCREENER'], publicJwk: { ...okp, kid: 'not-the-thumbprint' } },
          }),
        'BAD_USER_INPUT',
        /^input\.publicJwk\.kid: must be the key's RFC 7638 SHA-256 thumbprint/,
      );
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'string', roles: ['SCREENER'], publicJwk: 'a key' } }),
        'BAD_USER_INPUT',
        /^input\.publicJwk: must be a JSON object/,
      );
      expect(await superuserQuery(app.db, `SELECT 1 FROM principal WHERE name IN ('rsa', 'p384', 'wrong-kid', 'string')`)).toHaveLength(0);
    });

    it('refuses a key whose thumbprint is already registered, to anyone, and rolls the principal back', async () => {
      const owner = await createPrincipal(exchangeMemberId, 'key-owner', ['SCREENER']);
      for (const [memberId, jwk] of [
        [exchangeMemberId, owner.key.publicJwk],
        [cardMemberId, owner.key.publicJwk],
        [coordinatorMemberId, app.admin.publicJwk],
      ] as const) {
        await refusedWithoutChange(
          () => app.gql(CREATE_PRINCIPAL, { i: { memberId, name: 'key-thief', roles: ['SCREENER'], publicJwk: jwk } }),
          'BAD_USER_INPUT',
          `input.publicJwk: this key (kid ${jwk.kid}) is already registered`,
        );
      }
      expect(await superuserQuery(app.db, `SELECT 1 FROM principal WHERE name = 'key-thief'`)).toHaveLength(0);
      // The owner keeps it.
      expect((await me(owner.key)).data!.me.id).toBe(owner.principalId);
    });

    it.each([
      ['CARD_PROCESSOR', ['ADMIN']],
      ['CARD_PROCESSOR', ['CURATOR']],
      ['CRYPTO_EXCHANGE', ['ADMIN', 'SCREENER']],
      ['CRYPTO_EXCHANGE', ['CURATOR', 'CONTRIBUTOR']],
    ])('refuses a %s principal with roles %j: an admin or curator of a non-coordinator member cannot exist', async (kind, roles) => {
      const memberId = kind === 'CARD_PROCESSOR' ? cardMemberId : exchangeMemberId;
      const key = await newKey();
      const res = await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId, name: 'would-be-admin', roles, publicJwk: key.publicJwk } }),
        'BAD_USER_INPUT',
        /^input\.roles: .*COORDINATOR/,
      );
      expect(res.errors![0].extensions?.field).toBe('input.roles');
      expect(res.errors![0].message).toContain(roles.find((r) => r === 'ADMIN' || r === 'CURATOR')!);
      expect(await superuserQuery(app.db, 'SELECT 1 FROM principal_key WHERE kid = $1', [key.kid])).toHaveLength(0);
    });

    it('refuses empty, repeated and unknown roles', async () => {
      const key = await newKey();
      const input = (roles: unknown) => ({ i: { memberId: cardMemberId, name: 'roles', roles, publicJwk: key.publicJwk } });
      await refusedWithoutChange(() => app.gql(CREATE_PRINCIPAL, input([])), 'BAD_USER_INPUT', 'input.roles: must hold at least one role');
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, input(['SCREENER', 'SCREENER'])),
        'BAD_USER_INPUT',
        'input.roles: must not repeat a role',
      );
      await refusedWithoutChange(() => app.gql(CREATE_PRINCIPAL, input(['ROOT'])), 'BAD_USER_INPUT', /ROOT/);
    });

    it('refuses an unknown or malformed memberId', async () => {
      const key = await newKey();
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: UNKNOWN_UUID, name: 'orphan', roles: ['SCREENER'], publicJwk: key.publicJwk } }),
        'BAD_USER_INPUT',
        'input.memberId: no such member',
      );
      await refusedWithoutChange(
        () => app.gql(CREATE_PRINCIPAL, { i: { memberId: 'member-1', name: 'orphan', roles: ['SCREENER'], publicJwk: key.publicJwk } }),
        'BAD_USER_INPUT',
        'input.memberId: must be a UUID',
      );
    });

    it('refuses an empty or too long name', async () => {
      const key = await newKey();
      for (const name of ['', '   ', 'n'.repeat(201)]) {
        await refusedWithoutChange(
          () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name, roles: ['SCREENER'], publicJwk: key.publicJwk } }),
          'BAD_USER_INPUT',
          'input.name: must be 1 to 200 characters',
        );
      }
    });

    it('refuses a duplicate principal name within a member (case-insensitive) but allows it in another member', async () => {
      await createPrincipal(cardMemberId, 'Gateway', ['SCREENER']);
      for (const name of ['Gateway', 'GATEWAY', ' gateway ']) {
        const key = await newKey();
        await refusedWithoutChange(
          () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name, roles: ['SCREENER'], publicJwk: key.publicJwk } }),
          'BAD_USER_INPUT',
          'input.name: a principal with this name already exists in the member',
        );
        expect(await superuserQuery(app.db, 'SELECT 1 FROM principal_key WHERE kid = $1', [key.kid])).toHaveLength(0);
      }
      const elsewhere = await createPrincipal(exchangeMemberId, 'gateway', ['SCREENER']);
      expect((await me(elsewhere.key)).data!.me.name).toBe('gateway');
    });

    it('is for ADMINs only', async () => {
      const screener = await createPrincipal(cardMemberId, 'self-replicator', ['SCREENER', 'CONTRIBUTOR', 'AUDITOR']);
      const curator = await createPrincipal(coordinatorMemberId, 'curator-only', ['CURATOR', 'AUDITOR']);
      for (const key of [screener.key, curator.key]) {
        const k = await newKey();
        await refusedWithoutChange(
          () => app.gql(CREATE_PRINCIPAL, { i: { memberId: cardMemberId, name: 'spawned', roles: ['SCREENER'], publicJwk: k.publicJwk } }, key),
          'FORBIDDEN',
        );
      }
    });
  });

  describe('visibility across members', () => {
    let a1: Party;
    let a2: Party;
    let b1: Party;
    let coordAuditor: Party;
    let coordCurator: Party;
    let memberA: string;
    let memberB: string;

    beforeAll(async () => {
      a1 = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER', 'CONTRIBUTOR', 'AUDITOR'], 'Member A');
      memberA = a1.memberId;
      a2 = await createPrincipal(memberA, 'second', ['SCREENER']);
      b1 = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER'], 'Member B');
      memberB = b1.memberId;
      coordAuditor = await createMemberWithPrincipal(app, 'COORDINATOR', ['AUDITOR'], 'Watching Hotline');
      coordCurator = await createPrincipal(coordAuditor.memberId, 'curator', ['CURATOR']);
    });

    const MEMBERS = '{ members { id principals { id name keys { kid } } } }';
    type MemberRow = { id: string; principals: { id: string; name: string; keys: { kid: string }[] }[] | null };

    it('a principal sees its own member’s principals and keys, never another member’s', async () => {
      const res = await app.gql(MEMBERS, {}, a1.key);
      expect(res.errors).toBeUndefined();
      const members = res.data!.members as MemberRow[];
      const own = members.find((m) => m.id === memberA)!;
      expect(own.principals).toEqual([
        { id: a1.principalId, name: 'principal', keys: [{ kid: a1.key.kid }] },
        { id: a2.principalId, name: 'second', keys: [{ kid: a2.key.kid }] },
      ]);
      for (const m of members.filter((x) => x.id !== memberA)) expect(m.principals).toBeNull();
      expect(JSON.stringify(res.data)).not.toContain(b1.key.kid);
      expect(JSON.stringify(res.data)).not.toContain(b1.principalId);
      expect(JSON.stringify(res.data)).not.toContain(app.admin.kid);

      const single = await app.gql('query($id: ID!) { member(id: $id) { principals { id } } }', { id: memberB }, a1.key);
      expect(single.errors).toBeUndefined();
      expect(single.data!.member).toEqual({ principals: null });
    });

    it('principal(id) answers null for another member’s principal and the principal for its own member', async () => {
      const other = await app.gql(PRINCIPAL, { id: b1.principalId }, a1.key);
      expect(other.errors).toBeUndefined();
      expect(other.data).toEqual({ principal: null });
      const adminP = await app.gql(PRINCIPAL, { id: app.adminId }, a1.key);
      expect(adminP.data).toEqual({ principal: null });
      const unknown = await app.gql(PRINCIPAL, { id: UNKNOWN_UUID }, a1.key);
      expect(unknown.data).toEqual({ principal: null });
      const own = await app.gql(PRINCIPAL, { id: a2.principalId }, a1.key);
      expect(own.errors).toBeUndefined();
      expect(own.data!.principal).toEqual({ id: a2.principalId, name: 'second', member: { id: memberA }, keys: [{ kid: a2.key.kid, status: 'ACTIVE' }] });
      expectError(await app.gql(PRINCIPAL, { id: 'abc' }, a1.key), 'BAD_USER_INPUT', 'id: must be a UUID');
    });

    it('the other direction too: B sees nothing of A', async () => {
      expect((await app.gql(PRINCIPAL, { id: a1.principalId }, b1.key)).data).toEqual({ principal: null });
      const res = await app.gql(MEMBERS, {}, b1.key);
      const members = res.data!.members as MemberRow[];
      expect(members.find((m) => m.id === memberA)!.principals).toBeNull();
      expect(members.find((m) => m.id === memberB)!.principals).toEqual([{ id: b1.principalId, name: 'principal', keys: [{ kid: b1.key.kid }] }]);
    });

    it('a coordinator ADMIN and a coordinator AUDITOR see every member’s principals', async () => {
      for (const key of [app.admin, coordAuditor.key]) {
        const res = await app.gql(MEMBERS, {}, key);
        expect(res.errors).toBeUndefined();
        const members = res.data!.members as MemberRow[];
        for (const m of members) expect(m.principals).not.toBeNull();
        expect(members.find((m) => m.id === memberB)!.principals).toEqual([{ id: b1.principalId, name: 'principal', keys: [{ kid: b1.key.kid }] }]);
        expect(members.find((m) => m.id === adminMemberId)!.principals!.map((p) => p.id)).toContain(app.adminId);
        const p = await app.gql(PRINCIPAL, { id: b1.principalId }, key);
        expect(p.data!.principal).toEqual({ id: b1.principalId, name: 'principal', member: { id: memberB }, keys: [{ kid: b1.key.kid, status: 'ACTIVE' }] });
      }
    });

    it('a coordinator CURATOR (no ADMIN, no AUDITOR) and a non-coordinator AUDITOR see only their own member', async () => {
      for (const party of [coordCurator, a1]) {
        const res = await app.gql(MEMBERS, {}, party.key);
        const members = res.data!.members as MemberRow[];
        expect(members.find((m) => m.id === memberB)!.principals).toBeNull();
        expect(members.find((m) => m.id === party.memberId)!.principals).not.toBeNull();
        expect((await app.gql(PRINCIPAL, { id: b1.principalId }, party.key)).data).toEqual({ principal: null });
      }
    });

    it('a non-admin cannot add or revoke keys of another member’s principal, nor of a colleague', async () => {
      const k = await newKey();
      for (const target of [b1.principalId, a2.principalId, app.adminId]) {
        await refusedWithoutChange(() => app.gql(ADD_KEY, { p: target, jwk: k.publicJwk }, a1.key), 'FORBIDDEN', /^principalId: /);
      }
      for (const kid of [b1.key.kid, a2.key.kid, app.admin.kid]) {
        await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid, reason: 'hostile' }, a1.key), 'FORBIDDEN', /^kid: /);
      }
      // Whether a kid exists is not revealed to a non-admin either.
      await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid: k.kid, reason: 'probe' }, a1.key), 'FORBIDDEN', /^kid: /);
      await refusedWithoutChange(() => app.gql(ADD_KEY, { p: UNKNOWN_UUID, jwk: k.publicJwk }, a1.key), 'FORBIDDEN', /^principalId: /);
      // Everything still works as before.
      expect((await me(b1.key)).data!.me.keys).toEqual([expect.objectContaining({ kid: b1.key.kid, status: 'ACTIVE' })]);
      expect((await me(a2.key)).data!.me.id).toBe(a2.principalId);
    });
  });

  describe('key rotation', () => {
    let p: Party;
    let k2: TestKey;

    beforeAll(async () => {
      p = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER'], 'Rotating Exchange');
      k2 = await newKey('EdDSA');
    });

    it('a principal adds a second key for itself and signs in with it', async () => {
      const before = await counts();
      const res = await app.gql(ADD_KEY, { p: p.principalId, jwk: k2.publicJwk }, p.key);
      expect(res.errors).toBeUndefined();
      expect(res.data!.addPrincipalKey).toEqual({ kid: k2.kid, alg: 'EdDSA', status: 'ACTIVE', publicJwk: k2.publicJwk, revokedAt: null, revokedReason: null });
      expect(await counts()).toEqual({ ...before, principal_key: before.principal_key + 1, audit_event: before.audit_event + 1 });
      const events = await eventsFor(p.principalId, 'principal_key.add');
      expect(events).toHaveLength(1);
      expect(events[0].actor_principal_id).toBe(p.principalId);
      expect(JSON.parse(events[0].canonical).data).toEqual({ kid: k2.kid, alg: 'EdDSA' });

      const viaNew = await me(k2);
      expect(viaNew.errors).toBeUndefined();
      expect(viaNew.data!.me.id).toBe(p.principalId);
      expect(viaNew.data!.me.keys.map((k: { kid: string; status: string }) => [k.kid, k.status])).toEqual([
        [p.key.kid, 'ACTIVE'],
        [k2.kid, 'ACTIVE'],
      ]);
      expect((await me(p.key)).data!.me.id).toBe(p.principalId);
    });

    it('refuses a private JWK, a malformed principalId and an already registered key', async () => {
      const secret = await newKey();
      const res = await refusedWithoutChange(
        () => app.gql(ADD_KEY, { p: p.principalId, jwk: secret.privateJwk }, p.key),
        'BAD_USER_INPUT',
        /^publicJwk: contains private key material \(d\)/,
      );
      expect(res.errors![0].message).not.toContain(secret.privateJwk.d);
      expect(await superuserQuery(app.db, 'SELECT idx FROM audit_event WHERE strpos(canonical, $1) > 0', [secret.privateJwk.d])).toHaveLength(0);
      await refusedWithoutChange(() => app.gql(ADD_KEY, { p: 'me', jwk: secret.publicJwk }, p.key), 'BAD_USER_INPUT', 'principalId: must be a UUID');
      await refusedWithoutChange(
        () => app.gql(ADD_KEY, { p: p.principalId, jwk: app.admin.publicJwk }, p.key),
        'BAD_USER_INPUT',
        `publicJwk: this key (kid ${app.admin.kid}) is already registered`,
      );
      await refusedWithoutChange(
        () => app.gql(ADD_KEY, { p: p.principalId, jwk: k2.publicJwk }, p.key),
        'BAD_USER_INPUT',
        `publicJwk: this key (kid ${k2.kid}) is already registered`,
      );
    });

    it('revokes the old key with a reason: it is refused from then on, the new one keeps working', async () => {
      // The old key has been used: wait for its last use to be recorded (written after the response).
      await waitFor(async () => {
        const [row] = await superuserQuery<{ last_used_at: Date | null }>(app.db, 'SELECT last_used_at FROM principal_key WHERE kid = $1', [p.key.kid]);
        return row.last_used_at !== null;
      });
      await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid: p.key.kid, reason: '  ' }, k2), 'BAD_USER_INPUT', 'reason: must not be empty');

      const before = await counts();
      const res = await app.gql(REVOKE_KEY, { kid: p.key.kid, reason: 'scheduled rotation' }, k2);
      expect(res.errors).toBeUndefined();
      expect(res.data!.revokePrincipalKey).toEqual({ kid: p.key.kid, status: 'REVOKED', revokedAt: expect.any(String), revokedReason: 'scheduled rotation' });
      expect(await counts()).toEqual({ ...before, audit_event: before.audit_event + 1 });
      const events = await eventsFor(p.principalId, 'principal_key.revoke');
      expect(events).toHaveLength(1);
      expect(events[0].actor_principal_id).toBe(p.principalId);
      expect(JSON.parse(events[0].canonical).data).toEqual({ kid: p.key.kid, reason: 'scheduled rotation' });

      const old = await me(p.key);
      expectError(old, 'UNAUTHENTICATED');
      expect(old.data ?? null).toBeNull();
      const current = await me(k2);
      expect(current.errors).toBeUndefined();
      const keys = current.data!.me.keys as { kid: string; status: string; revokedReason: string | null; revokedAt: string | null; lastUsedAt: string | null }[];
      expect(keys).toHaveLength(2);
      expect(keys[0]).toEqual({
        kid: p.key.kid,
        alg: 'ES256',
        status: 'REVOKED',
        revokedReason: 'scheduled rotation',
        revokedAt: expect.any(String),
        lastUsedAt: expect.any(String),
      });
      expect(keys[1]).toMatchObject({ kid: k2.kid, alg: 'EdDSA', status: 'ACTIVE', revokedReason: null, revokedAt: null });
      expect(Date.parse(keys[0].lastUsedAt!)).toBeLessThanOrEqual(Date.parse(keys[0].revokedAt!) + 60_000);
    });

    it('a revoked key cannot be registered again, by anyone', async () => {
      await refusedWithoutChange(
        () => app.gql(ADD_KEY, { p: p.principalId, jwk: p.key.publicJwk }, k2),
        'BAD_USER_INPUT',
        `publicJwk: this key (kid ${p.key.kid}) is already registered`,
      );
      await refusedWithoutChange(
        () => app.gql(ADD_KEY, { p: p.principalId, jwk: p.key.publicJwk }),
        'BAD_USER_INPUT',
        `publicJwk: this key (kid ${p.key.kid}) is already registered`,
      );
      expectError(await me(p.key), 'UNAUTHENTICATED');
    });

    it('refuses to revoke the principal’s own last active key, and an already revoked key', async () => {
      await refusedWithoutChange(
        () => app.gql(REVOKE_KEY, { kid: k2.kid, reason: 'oops' }, k2),
        'BAD_USER_INPUT',
        /^kid: this is your last active key/,
      );
      await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid: p.key.kid, reason: 'again' }, k2), 'BAD_USER_INPUT', 'kid: the key is already revoked');
      await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid: p.key.kid, reason: 'again' }), 'BAD_USER_INPUT', 'kid: the key is already revoked');
      await refusedWithoutChange(() => app.gql(REVOKE_KEY, { kid: 'no-such-kid', reason: 'x' }), 'NOT_FOUND', 'kid: key not found');
      expect((await me(k2)).data!.me.id).toBe(p.principalId);
      const [row] = await superuserQuery<{ revoked_reason: string }>(app.db, 'SELECT revoked_reason FROM principal_key WHERE kid = $1', [p.key.kid]);
      expect(row.revoked_reason).toBe('scheduled rotation');
    });

    it('an ADMIN can revoke any principal’s key, even its last one, and add a replacement', async () => {
      const res = await app.gql(REVOKE_KEY, { kid: k2.kid, reason: 'compromised' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.revokePrincipalKey).toMatchObject({ kid: k2.kid, status: 'REVOKED', revokedReason: 'compromised' });
      const [event] = await eventsFor(p.principalId, 'principal_key.revoke').then((e) => e.slice(-1));
      expect(event.actor_principal_id).toBe(app.adminId);
      expectError(await me(k2), 'UNAUTHENTICATED');

      const k3 = await newKey('ES256');
      const added = await app.gql(ADD_KEY, { p: p.principalId, jwk: k3.publicJwk });
      expect(added.errors).toBeUndefined();
      expect(added.data!.addPrincipalKey).toMatchObject({ kid: k3.kid, alg: 'ES256', status: 'ACTIVE' });
      const back = await me(k3);
      expect(back.errors).toBeUndefined();
      expect(back.data!.me.keys.map((k: { status: string }) => k.status)).toEqual(['REVOKED', 'REVOKED', 'ACTIVE']);
    });

    it('an ADMIN revoking keys of another principal is audited with the admin as actor', async () => {
      const q = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], 'Admin Revoked Card');
      const before = await counts();
      expect((await app.gql(REVOKE_KEY, { kid: q.key.kid, reason: 'offboarded' })).errors).toBeUndefined();
      expect(await counts()).toEqual({ ...before, audit_event: before.audit_event + 1 });
      const events = await eventsFor(q.principalId, 'principal_key.revoke');
      expect(events.map((e) => [e.actor_principal_id, JSON.parse(e.canonical).data])).toEqual([[app.adminId, { kid: q.key.kid, reason: 'offboarded' }]]);
      expectError(await me(q.key), 'UNAUTHENTICATED');
    });

    it('two concurrent revocations cannot leave a principal without an active key', async () => {
      for (let round = 0; round < 5; round++) {
        const r = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], `Racing Card ${round}`);
        const extra = await newKey();
        expect((await app.gql(ADD_KEY, { p: r.principalId, jwk: extra.publicJwk }, r.key)).errors).toBeUndefined();
        const results = await Promise.all([
          app.gql(REVOKE_KEY, { kid: r.key.kid, reason: 'race one' }, r.key),
          app.gql(REVOKE_KEY, { kid: extra.kid, reason: 'race two' }, r.key),
        ]);
        const ok = results.filter((x) => !x.errors);
        const refused = results.filter((x) => x.errors);
        expect(ok).toHaveLength(1);
        expect(refused).toHaveLength(1);
        // Refused either by the last-key rule, or, when the other revocation committed first, because
        // the request was signed with the key that had just been revoked.
        const code = refused[0].errors![0].extensions?.code;
        expect(['BAD_USER_INPUT', 'UNAUTHENTICATED']).toContain(code);
        if (code === 'BAD_USER_INPUT') expectError(refused[0], 'BAD_USER_INPUT', /^kid: this is your last active key/);
        const [{ n }] = await superuserQuery<{ n: number }>(
          app.db,
          `SELECT count(*)::int AS n FROM principal_key WHERE principal_id = $1 AND status = 'ACTIVE'`,
          [r.principalId],
        );
        expect(n).toBe(1);
      }
    });
  });

  describe('setPrincipalRoles, disablePrincipal, enablePrincipal', () => {
    let target: Party;
    let hotlineAdmin: Party;

    beforeAll(async () => {
      target = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], 'Managed Card');
      hotlineAdmin = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR'], 'Managed Hotline');
    });

    it('replaces a principal’s roles, effective on the next request, and audits before and after', async () => {
      const before = await counts();
      const res = await app.gql(SET_ROLES, { id: target.principalId, roles: ['CONTRIBUTOR', 'AUDITOR', 'SCREENER'] });
      expect(res.errors).toBeUndefined();
      expect(res.data!.setPrincipalRoles).toEqual({ id: target.principalId, roles: ['SCREENER', 'CONTRIBUTOR', 'AUDITOR'] });
      expect(await counts()).toEqual({ ...before, audit_event: before.audit_event + 1 });
      const events = await eventsFor(target.principalId, 'principal.set_roles');
      expect(events.map((e) => JSON.parse(e.canonical).data)).toEqual([{ before: ['SCREENER'], after: ['SCREENER', 'CONTRIBUTOR', 'AUDITOR'] }]);
      expect((await me(target.key)).data!.me.roles).toEqual(['SCREENER', 'CONTRIBUTOR', 'AUDITOR']);

      // Granting ADMIN to a coordinator principal takes effect at once; so does taking it away.
      const create = `mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`;
      expectError(await app.gql(create, { i: { name: 'Promoted 1', kind: 'CARD_PROCESSOR' } }, hotlineAdmin.key), 'FORBIDDEN');
      expect((await app.gql(SET_ROLES, { id: hotlineAdmin.principalId, roles: ['ADMIN', 'CURATOR'] })).errors).toBeUndefined();
      expect((await app.gql(create, { i: { name: 'Promoted 1', kind: 'CARD_PROCESSOR' } }, hotlineAdmin.key)).errors).toBeUndefined();
      expect((await app.gql(SET_ROLES, { id: hotlineAdmin.principalId, roles: ['CURATOR'] })).errors).toBeUndefined();
      await refusedWithoutChange(() => app.gql(create, { i: { name: 'Promoted 2', kind: 'CARD_PROCESSOR' } }, hotlineAdmin.key), 'FORBIDDEN');
    });

    it('refuses ADMIN or CURATOR for a non-coordinator principal, naming roles', async () => {
      for (const roles of [['ADMIN'], ['SCREENER', 'CURATOR']]) {
        await refusedWithoutChange(() => app.gql(SET_ROLES, { id: target.principalId, roles }), 'BAD_USER_INPUT', /^roles: .*COORDINATOR/);
      }
      expect((await me(target.key)).data!.me.roles).toEqual(['SCREENER', 'CONTRIBUTOR', 'AUDITOR']);
    });

    it('refuses empty or repeated roles, unknown and malformed ids, and non-admins', async () => {
      await refusedWithoutChange(() => app.gql(SET_ROLES, { id: target.principalId, roles: [] }), 'BAD_USER_INPUT', 'roles: must hold at least one role');
      await refusedWithoutChange(
        () => app.gql(SET_ROLES, { id: target.principalId, roles: ['SCREENER', 'SCREENER'] }),
        'BAD_USER_INPUT',
        'roles: must not repeat a role',
      );
      await refusedWithoutChange(() => app.gql(SET_ROLES, { id: UNKNOWN_UUID, roles: ['SCREENER'] }), 'NOT_FOUND', 'id: principal not found');
      await refusedWithoutChange(() => app.gql(SET_ROLES, { id: 'x', roles: ['SCREENER'] }), 'BAD_USER_INPUT', 'id: must be a UUID');
      await refusedWithoutChange(() => app.gql(SET_ROLES, { id: target.principalId, roles: ['SCREENER'] }, target.key), 'FORBIDDEN');
      await refusedWithoutChange(() => app.gql(SET_ROLES, { id: target.principalId, roles: ['SCREENER'] }, hotlineAdmin.key), 'FORBIDDEN');
    });

    it('an admin cannot remove its own ADMIN role', async () => {
      await refusedWithoutChange(
        () => app.gql(SET_ROLES, { id: app.adminId, roles: ['CURATOR', 'AUDITOR'] }),
        'BAD_USER_INPUT',
        /^roles: you cannot remove ADMIN from yourself/,
      );
      expect((await app.gql(ME)).data!.me.roles).toEqual(['CURATOR', 'AUDITOR', 'ADMIN']);
      // Changing its other roles while keeping ADMIN is allowed.
      expect((await app.gql(SET_ROLES, { id: app.adminId, roles: ['ADMIN', 'AUDITOR', 'CURATOR'] })).data!.setPrincipalRoles.roles).toEqual([
        'CURATOR',
        'AUDITOR',
        'ADMIN',
      ]);
    });

    it('an admin cannot disable itself; reason is required; non-admins are refused', async () => {
      await refusedWithoutChange(() => app.gql(DISABLE, { id: app.adminId, reason: 'tired' }), 'BAD_USER_INPUT', 'id: you cannot disable yourself');
      await refusedWithoutChange(() => app.gql(DISABLE, { id: target.principalId, reason: '' }), 'BAD_USER_INPUT', 'reason: must not be empty');
      await refusedWithoutChange(() => app.gql(DISABLE, { id: UNKNOWN_UUID, reason: 'x' }), 'NOT_FOUND', 'id: principal not found');
      await refusedWithoutChange(() => app.gql(DISABLE, { id: app.adminId, reason: 'coup' }, target.key), 'FORBIDDEN');
      await refusedWithoutChange(() => app.gql(ENABLE, { id: target.principalId }, target.key), 'FORBIDDEN');
      expect((await app.gql(ME)).data!.me.disabled).toBe(false);
    });

    it('a disabled principal is refused whatever its keys; enabling restores it; both are audited', async () => {
      const spare = await newKey('EdDSA');
      expect((await app.gql(ADD_KEY, { p: target.principalId, jwk: spare.publicJwk }, target.key)).errors).toBeUndefined();

      const before = await counts();
      const res = await app.gql(DISABLE, { id: target.principalId, reason: 'left the company' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.disablePrincipal).toEqual({ id: target.principalId, disabled: true });
      expect(await counts()).toEqual({ ...before, audit_event: before.audit_event + 1 });
      expect((await eventsFor(target.principalId, 'principal.disable')).map((e) => [e.actor_principal_id, JSON.parse(e.canonical).data])).toEqual([
        [app.adminId, { reason: 'left the company' }],
      ]);

      for (const key of [target.key, spare]) {
        const refused = await me(key);
        expectError(refused, 'UNAUTHENTICATED');
        expect(refused.data ?? null).toBeNull();
      }
      // It cannot manage its keys either.
      const k = await newKey();
      await refusedWithoutChange(() => app.gql(ADD_KEY, { p: target.principalId, jwk: k.publicJwk }, spare), 'UNAUTHENTICATED');
      await refusedWithoutChange(() => app.gql(DISABLE, { id: target.principalId, reason: 'again' }), 'BAD_USER_INPUT', 'id: the principal is already disabled');
      const seen = await app.gql('query($id: ID!) { principal(id: $id) { disabled } }', { id: target.principalId });
      expect(seen.data!.principal).toEqual({ disabled: true });

      const enabled = await app.gql(ENABLE, { id: target.principalId });
      expect(enabled.errors).toBeUndefined();
      expect(enabled.data!.enablePrincipal).toEqual({ id: target.principalId, disabled: false });
      expect(await eventsFor(target.principalId, 'principal.enable')).toHaveLength(1);
      for (const key of [target.key, spare]) {
        const ok = await me(key);
        expect(ok.errors).toBeUndefined();
        expect(ok.data!.me).toMatchObject({ id: target.principalId, disabled: false });
      }
      await refusedWithoutChange(() => app.gql(ENABLE, { id: target.principalId }), 'BAD_USER_INPUT', 'id: the principal is not disabled');
    });

    it('a disabled coordinator ADMIN can do nothing; another admin can still disable and enable it', async () => {
      const second = await createPrincipal(adminMemberId, 'deputy-admin', ['ADMIN']);
      expect((await app.gql(DISABLE, { id: second.principalId, reason: 'on leave' })).errors).toBeUndefined();
      await refusedWithoutChange(
        () => app.gql(`mutation { createMember(input: { name: "Deputy Made", kind: CARD_PROCESSOR }) { id } }`, {}, second.key),
        'UNAUTHENTICATED',
      );
      await refusedWithoutChange(() => app.gql(ENABLE, { id: second.principalId }, second.key), 'UNAUTHENTICATED');
      expect((await app.gql(ENABLE, { id: second.principalId })).errors).toBeUndefined();
      // Now the deputy may disable the bootstrap admin (another principal), though not itself.
      await refusedWithoutChange(() => app.gql(DISABLE, { id: second.principalId, reason: 'self' }, second.key), 'BAD_USER_INPUT', 'id: you cannot disable yourself');
      await refusedWithoutChange(
        () => app.gql(SET_ROLES, { id: second.principalId, roles: ['CURATOR'] }, second.key),
        'BAD_USER_INPUT',
        /^roles: you cannot remove ADMIN from yourself/,
      );
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
