import { superuserQuery } from '../support/database.js';
import { directoryCounts, expectError, refusedWithoutChange as refusedWithoutChangeIn } from '../support/refusals.js';
import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';

/** Row counts of every table a member/principal mutation may touch. */
const CREATE_MEMBER = `mutation($i: CreateMemberInput!) { createMember(input: $i) { id name kind suspended } }`;
const SUSPEND = `mutation($id: ID!, $reason: String!) { suspendMember(id: $id, reason: $reason) { id suspended suspendedAt suspendedReason } }`;
const REINSTATE = `mutation($id: ID!, $note: String) { reinstateMember(id: $id, note: $note) { id suspended suspendedAt suspendedReason } }`;
const ME = '{ me { id member { id suspended } } }';
const UNKNOWN_UUID = '7d5c4e1b-6f3a-4c2d-9e8f-0a1b2c3d4e5f';

describe('members: directory, creation, suspension', () => {
  let app: TestApp;
  let adminMemberId: string;
  let screener: { memberId: string; principalId: string; key: TestKey };
  let contributor: { memberId: string; principalId: string; key: TestKey };
  let curator: { memberId: string; principalId: string; key: TestKey };
  let auditor: { memberId: string; principalId: string; key: TestKey };

  beforeAll(async () => {
    app = await startTestApp();
    const me = await app.gql('{ me { member { id } } }');
    adminMemberId = me.data!.me.member.id;
    screener = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], 'Screener Bank');
    contributor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER'], 'Contributor Exchange');
    curator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR'], 'Curating Hotline');
    auditor = await createMemberWithPrincipal(app, 'COORDINATOR', ['AUDITOR', 'CURATOR'], 'Auditing Hotline');
  });
  afterAll(async () => {
    await app?.stop();
  });

  const counts = () => directoryCounts(app);
  const refusedWithoutChange = (run: () => Promise<GraphqlResponse>, code: string, message?: string | RegExp) =>
    refusedWithoutChangeIn(app, run, code, message);

  async function eventsFor(subjectId: string, action: string) {
    return superuserQuery<{ action: string; actor_principal_id: string | null; actor_member_id: string | null; canonical: string }>(
      app.db,
      'SELECT action, actor_principal_id, actor_member_id, canonical FROM audit_event WHERE subject_id = $1 AND action = $2 ORDER BY idx',
      [subjectId, action],
    );
  }

  describe('createMember', () => {
    it('lets an ADMIN create a member and audits it', async () => {
      const before = await counts();
      const res = await app.gql(CREATE_MEMBER, { i: { name: '  Northwind Payments  ', kind: 'CARD_PROCESSOR' } });
      expect(res.errors).toBeUndefined();
      const member = res.data!.createMember;
      expect(member).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Northwind Payments', kind: 'CARD_PROCESSOR', suspended: false });
      expect(await counts()).toEqual({ ...before, member: before.member + 1, audit_event: before.audit_event + 1 });
      const events = await eventsFor(member.id, 'member.create');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_principal_id: app.adminId, actor_member_id: adminMemberId });
      expect(JSON.parse(events[0].canonical).data).toEqual({ name: 'Northwind Payments', kind: 'CARD_PROCESSOR' });
    });

    it.each([
      ['SCREENER', () => screener.key],
      ['CONTRIBUTOR', () => contributor.key],
      ['coordinator CURATOR', () => curator.key],
      ['coordinator AUDITOR without ADMIN', () => auditor.key],
    ])('refuses a %s with FORBIDDEN and creates nothing', async (_label, key) => {
      const res = await refusedWithoutChange(
        () => app.gql(CREATE_MEMBER, { i: { name: 'Should Not Exist', kind: 'CRYPTO_EXCHANGE' } }, key()),
        'FORBIDDEN',
        /ADMIN/,
      );
      expect(res.data ?? null).toBeNull();
      const rows = await superuserQuery(app.db, `SELECT 1 FROM member WHERE lower(name) = 'should not exist'`);
      expect(rows).toHaveLength(0);
    });

    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      await refusedWithoutChange(() => app.gql(CREATE_MEMBER, { i: { name: 'Anonymous Member', kind: 'COORDINATOR' } }, null), 'UNAUTHENTICATED');
    });

    it.each([
      ['empty', '', 'input.name: must be 1 to 200 characters'],
      ['blank', '    ', 'input.name: must be 1 to 200 characters'],
      ['201 characters', 'x'.repeat(201), 'input.name: must be 1 to 200 characters'],
      ['a control character', 'Bad\u0007Name', 'input.name: must not contain control characters'],
    ])('refuses a name that is %s with BAD_USER_INPUT naming input.name', async (_label, name, message) => {
      await refusedWithoutChange(() => app.gql(CREATE_MEMBER, { i: { name, kind: 'CARD_PROCESSOR' } }), 'BAD_USER_INPUT', message);
    });

    it('accepts a name of exactly 200 characters', async () => {
      const name = 'M'.repeat(200);
      const res = await app.gql(CREATE_MEMBER, { i: { name, kind: 'CRYPTO_EXCHANGE' } });
      expect(res.errors).toBeUndefined();
      expect(res.data!.createMember.name).toBe(name);
    });

    it('refuses a duplicate name, case-insensitively and after trimming', async () => {
      const first = await app.gql(CREATE_MEMBER, { i: { name: 'Acme Payments', kind: 'CARD_PROCESSOR' } });
      expect(first.errors).toBeUndefined();
      for (const name of ['Acme Payments', 'ACME PAYMENTS', '  acme payments ']) {
        await refusedWithoutChange(
          () => app.gql(CREATE_MEMBER, { i: { name, kind: 'CRYPTO_EXCHANGE' } }),
          'BAD_USER_INPUT',
          'input.name: a member with this name already exists',
        );
      }
      const rows = await superuserQuery<{ name: string; kind: string }>(app.db, `SELECT name, kind FROM member WHERE lower(name) = 'acme payments'`);
      expect(rows).toEqual([{ name: 'Acme Payments', kind: 'CARD_PROCESSOR' }]);
    });

    it('refuses the bootstrap member name too', async () => {
      await refusedWithoutChange(
        () => app.gql(CREATE_MEMBER, { i: { name: 'coalition secretariat', kind: 'COORDINATOR' } }),
        'BAD_USER_INPUT',
        'input.name: a member with this name already exists',
      );
    });

    it('refuses an unknown kind', async () => {
      const res = await refusedWithoutChange(
        () => app.gql(CREATE_MEMBER, { i: { name: 'Odd Kind', kind: 'BANK' } }),
        'BAD_USER_INPUT',
      );
      expect(res.errors![0].message).toContain('BANK');
    });
  });

  describe('members and member queries', () => {
    it('gives every authenticated principal the directory: ids, names, kinds', async () => {
      const res = await app.gql('{ members { id name kind suspended } }', {}, screener.key);
      expect(res.errors).toBeUndefined();
      const members = res.data!.members as { id: string; name: string; kind: string; suspended: boolean }[];
      const all = await superuserQuery<{ id: string }>(app.db, 'SELECT id FROM member');
      expect(members.map((m) => m.id).sort()).toEqual(all.map((m) => m.id).sort());
      expect(members).toEqual(
        expect.arrayContaining([
          { id: adminMemberId, name: 'Coalition Secretariat', kind: 'COORDINATOR', suspended: false },
          { id: screener.memberId, name: 'Screener Bank', kind: 'CARD_PROCESSOR', suspended: false },
          { id: contributor.memberId, name: 'Contributor Exchange', kind: 'CRYPTO_EXCHANGE', suspended: false },
        ]),
      );
    });

    it('refuses the directory without a token', async () => {
      const res = await app.gql('{ members { id } }', {}, null);
      expectError(res, 'UNAUTHENTICATED');
      expect(res.data ?? null).toBeNull();
    });

    it('answers member(id) for a known id', async () => {
      const res = await app.gql('query($id: ID!) { member(id: $id) { id name kind suspended } }', { id: contributor.memberId }, screener.key);
      expect(res.errors).toBeUndefined();
      expect(res.data!.member).toEqual({ id: contributor.memberId, name: 'Contributor Exchange', kind: 'CRYPTO_EXCHANGE', suspended: false });
    });

    it('accepts an upper-case uuid', async () => {
      const res = await app.gql('query($id: ID!) { member(id: $id) { id } }', { id: contributor.memberId.toUpperCase() }, screener.key);
      expect(res.errors).toBeUndefined();
      expect(res.data!.member).toEqual({ id: contributor.memberId });
    });

    it('answers null, without error, for an unknown uuid', async () => {
      const res = await app.gql('query($id: ID!) { member(id: $id) { id } }', { id: UNKNOWN_UUID }, screener.key);
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ member: null });
    });

    it.each(['not-a-uuid', '', "1' OR '1'='1", '7d5c4e1b6f3a4c2d9e8f0a1b2c3d4e5f'])('refuses a non-uuid id %j with BAD_USER_INPUT naming id', async (id) => {
      const res = await app.gql('query($id: ID!) { member(id: $id) { id } }', { id }, screener.key);
      expectError(res, 'BAD_USER_INPUT', 'id: must be a UUID');
      expect(res.errors![0].extensions?.field).toBe('id');
    });
  });

  describe('suspendMember and reinstateMember', () => {
    it.each([
      ['empty', ''],
      ['blank', '   '],
    ])('requires a reason (%s)', async (_label, reason) => {
      await refusedWithoutChange(() => app.gql(SUSPEND, { id: screener.memberId, reason }), 'BAD_USER_INPUT', 'reason: must not be empty');
      const [row] = await superuserQuery<{ suspended: boolean }>(app.db, 'SELECT suspended FROM member WHERE id = $1', [screener.memberId]);
      expect(row.suspended).toBe(false);
    });

    it('refuses a reason longer than 1000 characters', async () => {
      await refusedWithoutChange(
        () => app.gql(SUSPEND, { id: screener.memberId, reason: 'r'.repeat(1001) }),
        'BAD_USER_INPUT',
        'reason: must be at most 1000 characters',
      );
    });

    it('refuses to suspend the caller’s own member', async () => {
      await refusedWithoutChange(
        () => app.gql(SUSPEND, { id: adminMemberId, reason: 'oops' }),
        'BAD_USER_INPUT',
        'id: you cannot suspend your own member',
      );
      expect((await app.gql(ME)).data!.me.member).toEqual({ id: adminMemberId, suspended: false });
    });

    it('refuses an unknown member with NOT_FOUND and a non-uuid with BAD_USER_INPUT', async () => {
      await refusedWithoutChange(() => app.gql(SUSPEND, { id: UNKNOWN_UUID, reason: 'gone' }), 'NOT_FOUND', 'id: member not found');
      await refusedWithoutChange(() => app.gql(SUSPEND, { id: 'nope', reason: 'gone' }), 'BAD_USER_INPUT', 'id: must be a UUID');
      await refusedWithoutChange(() => app.gql(REINSTATE, { id: UNKNOWN_UUID }), 'NOT_FOUND', 'id: member not found');
    });

    it.each([
      ['SCREENER', () => screener.key],
      ['coordinator AUDITOR without ADMIN', () => auditor.key],
      ['coordinator CURATOR', () => curator.key],
    ])('refuses suspension and reinstatement by a %s with FORBIDDEN', async (_label, key) => {
      await refusedWithoutChange(() => app.gql(SUSPEND, { id: contributor.memberId, reason: 'no' }, key()), 'FORBIDDEN');
      await refusedWithoutChange(() => app.gql(REINSTATE, { id: contributor.memberId }, key()), 'FORBIDDEN');
    });

    it('suspends a member: its principals are refused, the change is audited, reinstating restores access', async () => {
      const target = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER'], 'Suspended Exchange');
      expect((await app.gql(ME, {}, target.key)).data!.me.id).toBe(target.principalId);

      const before = await counts();
      const res = await app.gql(SUSPEND, { id: target.memberId, reason: '  repeated false reports  ' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.suspendMember).toEqual({
        id: target.memberId,
        suspended: true,
        suspendedAt: expect.any(String),
        suspendedReason: 'repeated false reports',
      });
      expect(await counts()).toEqual({ ...before, audit_event: before.audit_event + 1 });
      const suspendEvents = await eventsFor(target.memberId, 'member.suspend');
      expect(suspendEvents).toHaveLength(1);
      expect(suspendEvents[0]).toMatchObject({ actor_principal_id: app.adminId, actor_member_id: adminMemberId });
      expect(JSON.parse(suspendEvents[0].canonical)).toMatchObject({
        action: 'member.suspend',
        subject: target.memberId,
        data: { reason: 'repeated false reports' },
      });

      // Its principal is now refused, on every operation.
      const refused = await app.gql(ME, {}, target.key);
      expectError(refused, 'UNAUTHENTICATED');
      expect(refused.data ?? null).toBeNull();
      expectError(await app.gql('{ members { id } }', {}, target.key), 'UNAUTHENTICATED');
      const [refusal] = await superuserQuery<{ canonical: string }>(
        app.db,
        `SELECT canonical FROM audit_event WHERE action = 'auth.refused' AND subject_id = $1 ORDER BY idx DESC LIMIT 1`,
        [target.principalId],
      );
      expect(JSON.parse(refusal.canonical).data).toEqual({ reason: 'member suspended', kid: target.key.kid });

      // Suspending twice is refused; others see the flag but not the reason; the admin sees both.
      await refusedWithoutChange(
        () => app.gql(SUSPEND, { id: target.memberId, reason: 'again' }),
        'BAD_USER_INPUT',
        'id: the member is already suspended',
      );
      const q = 'query($id: ID!) { member(id: $id) { suspended suspendedReason } }';
      expect((await app.gql(q, { id: target.memberId }, screener.key)).data!.member).toEqual({ suspended: true, suspendedReason: null });
      expect((await app.gql(q, { id: target.memberId }, auditor.key)).data!.member).toEqual({
        suspended: true,
        suspendedReason: 'repeated false reports',
      });
      expect((await app.gql(q, { id: target.memberId })).data!.member).toEqual({ suspended: true, suspendedReason: 'repeated false reports' });

      // Reinstating restores access and is audited.
      const beforeReinstate = await counts();
      const back = await app.gql(REINSTATE, { id: target.memberId, note: 'resolved' });
      expect(back.errors).toBeUndefined();
      expect(back.data!.reinstateMember).toEqual({ id: target.memberId, suspended: false, suspendedAt: null, suspendedReason: null });
      expect(await counts()).toEqual({ ...beforeReinstate, audit_event: beforeReinstate.audit_event + 1 });
      const reinstateEvents = await eventsFor(target.memberId, 'member.reinstate');
      expect(reinstateEvents).toHaveLength(1);
      expect(reinstateEvents[0]).toMatchObject({ actor_principal_id: app.adminId, actor_member_id: adminMemberId });
      expect(JSON.parse(reinstateEvents[0].canonical)).toMatchObject({ action: 'member.reinstate', subject: target.memberId, data: { note: 'resolved' } });

      const again = await app.gql(ME, {}, target.key);
      expect(again.errors).toBeUndefined();
      expect(again.data!.me).toEqual({ id: target.principalId, member: { id: target.memberId, suspended: false } });

      await refusedWithoutChange(() => app.gql(REINSTATE, { id: target.memberId }), 'BAD_USER_INPUT', 'id: the member is not suspended');
    });

    it('suspending one member leaves the principals of other members alone', async () => {
      const a = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], 'Isolated A');
      const b = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER'], 'Isolated B');
      expect((await app.gql(SUSPEND, { id: a.memberId, reason: 'test' })).errors).toBeUndefined();
      expectError(await app.gql(ME, {}, a.key), 'UNAUTHENTICATED');
      expect((await app.gql(ME, {}, b.key)).data!.me.id).toBe(b.principalId);
      expect((await app.gql(REINSTATE, { id: a.memberId })).errors).toBeUndefined();
      expect((await app.gql(ME, {}, a.key)).data!.me.id).toBe(a.principalId);
    });

    it('lets an admin suspend another coordinator member, whose admin is then refused', async () => {
      const other = await createMemberWithPrincipal(app, 'COORDINATOR', ['ADMIN'], 'Other Secretariat');
      expect((await app.gql(SUSPEND, { id: other.memberId, reason: 'audit' })).errors).toBeUndefined();
      await refusedWithoutChange(
        () => app.gql(CREATE_MEMBER, { i: { name: 'Made While Suspended', kind: 'CARD_PROCESSOR' } }, other.key),
        'UNAUTHENTICATED',
      );
      await refusedWithoutChange(() => app.gql(REINSTATE, { id: other.memberId }, other.key), 'UNAUTHENTICATED');
      expect((await app.gql(REINSTATE, { id: other.memberId })).errors).toBeUndefined();
      // The reinstated admin may now suspend (but not its own member).
      await refusedWithoutChange(
        () => app.gql(SUSPEND, { id: other.memberId, reason: 'self' }, other.key),
        'BAD_USER_INPUT',
        'id: you cannot suspend your own member',
      );
    });
  });
});
