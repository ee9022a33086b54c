import { randomUUID } from 'node:crypto';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const DISPUTE = `mutation($id: ID!, $reason: String!) {
  disputeIndicator(id: $id, reason: $reason) { id reason status resolution createdAt resolvedAt member { id } indicator { id status version } }
}`;
const RESOLVE = `mutation($id: ID!, $upheld: Boolean!, $note: String) {
  resolveDispute(id: $id, upheld: $upheld, note: $note) { id status resolution resolvedAt indicator { id status } }
}`;
const SIGHTING = `mutation($id: ID!, $kind: SightingKind!, $note: String) {
  reportSighting(indicatorId: $id, kind: $kind, note: $note) { id kind note createdAt indicator { id } member { id } }
}`;
const DISPUTES = `query($status: String, $first: Int, $after: String, $indicatorId: ID) {
  disputes(status: $status, first: $first, after: $after, indicatorId: $indicatorId) {
    edges { cursor node { id status reason member { id } indicator { id } } } pageInfo { hasNextPage endCursor }
  }
}`;
const NOTIFICATIONS = `query($unreadOnly: Boolean) { notifications(unreadOnly: $unreadOnly) { id kind message createdAt readAt indicator { id status } } }`;
const ACK = `mutation($id: ID!) { acknowledgeNotification(id: $id) { id readAt kind } }`;
const INDICATOR = `query($id: ID!) { indicator(id: $id) { id status version sightings { seen falsePositive actioned } } }`;

describe('disputes, sightings and notifications (issue 5)', () => {
  let app: TestApp;
  let coordinator: Party; // CONTRIBUTOR + CURATOR of a COORDINATOR member
  let exchangeA: Party; // CONTRIBUTOR + SCREENER
  let exchangeB: Party; // CONTRIBUTOR
  let screener: Party; // SCREENER only, its own member
  let auditor: Party; // AUDITOR only

  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    exchangeA = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    exchangeB = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['CONTRIBUTOR']);
    screener = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    auditor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['AUDITOR']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** A coordinator's statement: the indicator is ACTIVE at once. */
  async function activeIndicator(overrides: { tlp?: string; shareWith?: string[] } = {}): Promise<string> {
    const jws = await statement(coordinator.key, { iss: coordinator.principalId, ...overrides });
    const res = await app.gql(SUBMIT, { jws }, coordinator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.submitStatement.indicator.status).toBe('ACTIVE');
    return res.data!.submitStatement.indicator.id as string;
  }

  async function dispute(party: Party, indicatorId: string, reason = 'this wallet belongs to our customer, a school') {
    const res = await app.gql(DISPUTE, { id: indicatorId, reason }, party.key);
    expect(res.errors).toBeUndefined();
    return res.data!.disputeIndicator;
  }

  /** The status a coordinator (who sees every statement) sees. */
  async function statusOf(indicatorId: string): Promise<string> {
    const res = await app.gql(`query($id: ID!) { indicator(id: $id) { status } }`, { id: indicatorId }, app.admin);
    return res.data!.indicator.status;
  }

  /** Everything a refused mutation must leave as it was (audit events other than access.denied included). */
  async function snapshot() {
    const [row] = await superuserQuery(
      app.db,
      `SELECT (SELECT count(*)::int FROM dispute) AS disputes,
              (SELECT count(*)::int FROM sighting) AS sightings,
              (SELECT count(*)::int FROM notification) AS notifications,
              (SELECT count(*)::int FROM notification WHERE read_at IS NOT NULL) AS read,
              (SELECT count(*)::int FROM curation) AS curation,
              (SELECT count(*)::int FROM audit_event WHERE action NOT IN ('access.denied', 'mutation.refused')) AS audit,
              (SELECT string_agg(statement_id || status || coalesce(status_before_dispute, '-') || disputed_by::text, ',' ORDER BY statement_id) FROM statement_state) AS states,
              (SELECT count(*)::int FROM indicator_change) AS changes,
              (SELECT string_agg(id || status || coalesce(resolution, '-'), ',' ORDER BY id) FROM dispute) AS dispute_states`,
    );
    return row;
  }

  it('lets another member dispute an ACTIVE indicator: it becomes DISPUTED, with the dispute and audit events in one go', async () => {
    const id = await activeIndicator();
    const d = await dispute(exchangeA, id, '  wrong: this is an exchange hot wallet  ');
    expect(d).toMatchObject({
      reason: 'wrong: this is an exchange hot wallet',
      status: 'OPEN',
      resolution: null,
      resolvedAt: null,
      member: { id: exchangeA.memberId },
      indicator: { id, status: 'DISPUTED', version: 2 },
    });
    const read = await app.gql(INDICATOR, { id }, exchangeB.key);
    expect(read.data!.indicator.status).toBe('DISPUTED');
    const events = await superuserQuery<{ action: string; subject_id: string }>(
      app.db,
      `SELECT action, subject_id FROM audit_event WHERE subject_id IN ($1, $2) ORDER BY idx`,
      [id, d.id],
    );
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['indicator.dispute', 'dispute.open']));
    const [opened] = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE action = 'dispute.open' AND subject_id = $1`, [d.id]);
    expect(JSON.parse(opened.canonical)).toMatchObject({
      actor: { principal: exchangeA.principalId, member: exchangeA.memberId },
      subjectMember: exchangeA.memberId,
      data: { indicatorId: id, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), reason: 'wrong: this is an exchange hot wallet' },
    });
    const [row] = await superuserQuery<{ member_id: string; principal_id: string; status_before_dispute: string }>(
      app.db,
      `SELECT d.member_id, d.principal_id, st.status_before_dispute FROM dispute d JOIN statement_state st ON st.indicator_id = d.indicator_id WHERE d.id = $1`,
      [d.id],
    );
    expect(row).toEqual({ member_id: exchangeA.memberId, principal_id: exchangeA.principalId, status_before_dispute: 'ACTIVE' });
  });

  it('refuses a second open dispute by the same member, and a dispute on a PENDING indicator, naming the status', async () => {
    const id = await activeIndicator();
    await dispute(exchangeA, id);
    const before = await snapshot();
    const again = await app.gql(DISPUTE, { id, reason: 'again' }, exchangeA.key);
    expect(again.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0].message).toMatch(/already has an OPEN dispute/);

    const pending = await app.gql(SUBMIT, { jws: await statement(exchangeB.key, { iss: exchangeB.principalId }) }, exchangeB.key);
    const pendingId = pending.data!.submitStatement.indicator.id;
    expect(pending.data!.submitStatement.indicator.status).toBe('PENDING');
    const mid = await snapshot();
    const onPending = await app.gql(DISPUTE, { id: pendingId, reason: 'no' }, exchangeA.key);
    expect(onPending.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(onPending.errors?.[0].message).toMatch(/PENDING/);
    expect(await snapshot()).toEqual(mid);
    expect(before.disputes).toBe(mid.disputes);

    const blank = await app.gql(DISPUTE, { id, reason: '   ' }, exchangeB.key);
    expect(blank.errors?.[0]).toMatchObject({ message: 'reason: must not be empty', extensions: { code: 'BAD_USER_INPUT' } });
    const badId = await app.gql(DISPUTE, { id: 'nope', reason: 'x' }, exchangeB.key);
    expect(badId.errors?.[0]).toMatchObject({ message: 'id: must be a UUID', extensions: { code: 'BAD_USER_INPUT' } });
    expect(await snapshot()).toEqual(mid);
  });

  it('upholds a dispute: the indicator is REVOKED, the dispute UPHELD, and only the member that ACTIONED it is notified', async () => {
    const id = await activeIndicator();
    const sighting = await app.gql(SIGHTING, { id, kind: 'ACTIONED', note: 'blocked the withdrawal' }, exchangeA.key);
    expect(sighting.errors).toBeUndefined();
    expect(sighting.data!.reportSighting).toMatchObject({ kind: 'ACTIONED', note: 'blocked the withdrawal', indicator: { id }, member: { id: exchangeA.memberId } });
    const seen = await app.gql(SIGHTING, { id, kind: 'SEEN' }, exchangeB.key);
    expect(seen.errors).toBeUndefined();

    const d = await dispute(exchangeB, id);
    const res = await app.gql(RESOLVE, { id: d.id, upheld: true, note: 'confirmed: a school’s wallet' }, coordinator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.resolveDispute).toMatchObject({ id: d.id, status: 'UPHELD', resolution: 'confirmed: a school’s wallet', indicator: { id, status: 'REVOKED' } });
    expect(res.data!.resolveDispute.resolvedAt).not.toBeNull();
    expect(await statusOf(id)).toBe('REVOKED');

    const forA = await app.gql(NOTIFICATIONS, {}, exchangeA.key);
    const mine = forA.data!.notifications.filter((n: { indicator: { id: string } | null }) => n.indicator?.id === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'DISPUTE_UPHELD', readAt: null, indicator: { id, status: 'REVOKED' } });
    expect(mine[0].message).toMatch(/revoked on review/);
    // The disputant hears its own outcome (issue 18), not the remedy meant for those who ACTIONED it.
    const forB = await app.gql(NOTIFICATIONS, {}, exchangeB.key);
    expect(forB.data!.notifications.filter((n: { indicator: { id: string } | null }) => n.indicator?.id === id).map((n: { kind: string }) => n.kind)).toEqual(['DISPUTE_RESOLVED']);

    // Another member cannot acknowledge it: NOT_FOUND, exactly as a random id, and nothing changes.
    const before = await snapshot();
    const byB = await app.gql(ACK, { id: mine[0].id }, exchangeB.key);
    const random = await app.gql(ACK, { id: randomUUID() }, exchangeB.key);
    expect(byB.errors?.[0]).toMatchObject({ message: 'id: notification not found', extensions: { code: 'NOT_FOUND' } });
    expect(random.errors?.[0].message).toBe(byB.errors?.[0].message);
    expect(await snapshot()).toEqual(before);

    const ack = await app.gql(ACK, { id: mine[0].id }, exchangeA.key);
    expect(ack.errors).toBeUndefined();
    expect(ack.data!.acknowledgeNotification.readAt).not.toBeNull();
    const unread = await app.gql(NOTIFICATIONS, { unreadOnly: true }, exchangeA.key);
    expect(unread.data!.notifications.some((n: { id: string }) => n.id === mine[0].id)).toBe(false);
    const again = await app.gql(ACK, { id: mine[0].id }, exchangeA.key);
    expect(again.data!.acknowledgeNotification.readAt).toBe(ack.data!.acknowledgeNotification.readAt);

    const actions = await superuserQuery<{ action: string }>(app.db, `SELECT action FROM audit_event WHERE subject_id IN ($1, $2) ORDER BY idx`, [id, d.id]);
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['dispute.open', 'indicator.uphold_dispute', 'dispute.uphold']));
    const acks = await superuserQuery(app.db, `SELECT 1 FROM audit_event WHERE action = 'notification.acknowledge' AND subject_id = $1`, [mine[0].id]);
    expect(acks).toHaveLength(2);
  });

  it('upholding one dispute upholds every other open dispute on the indicator', async () => {
    const id = await activeIndicator();
    const first = await dispute(exchangeA, id);
    const second = await dispute(exchangeB, id);
    const res = await app.gql(RESOLVE, { id: first.id, upheld: true, note: 'the curator’s words to exchange A only' }, app.admin);
    expect(res.errors).toBeUndefined();
    const [other] = await superuserQuery<{ status: string; resolution: string }>(app.db, 'SELECT status, resolution FROM dispute WHERE id = $1', [second.id]);
    expect(other.status).toBe('UPHELD');
    // The other member learns its own outcome, without the first member's dispute or the note to it.
    expect(other.resolution).toBe('upheld: the indicator was revoked on review');
    const asB = await app.gql(`query($id: ID!) { dispute(id: $id) { status resolution } }`, { id: second.id }, exchangeB.key);
    expect(asB.data!.dispute).toEqual({ status: 'UPHELD', resolution: 'upheld: the indicator was revoked on review' });
    const events = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE subject_member_id = $1`, [exchangeB.memberId]);
    expect(events.map((e) => e.canonical).join('\n')).not.toContain(first.id);
    expect(events.map((e) => e.canonical).join('\n')).not.toContain('exchange A only');
  });

  it('rejects a dispute: the status before the dispute returns', async () => {
    const id = await activeIndicator();
    const d = await dispute(exchangeA, id);
    expect(await statusOf(id)).toBe('DISPUTED');
    const res = await app.gql(RESOLVE, { id: d.id, upheld: false, note: 'evidence holds' }, coordinator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.resolveDispute).toMatchObject({ status: 'REJECTED', resolution: 'evidence holds', indicator: { id, status: 'ACTIVE' } });
    expect(await statusOf(id)).toBe('ACTIVE');
    // Only the disputant is told (DISPUTE_RESOLVED); nobody gets a remedy notification.
    const rows = await superuserQuery<{ kind: string }>(app.db, `SELECT kind FROM notification WHERE indicator_id = $1`, [id]);
    expect(rows.map((r) => r.kind)).toEqual(['DISPUTE_RESOLVED']);
  });

  it('keeps an indicator DISPUTED while another dispute is open, and restores it when the last is rejected', async () => {
    const id = await activeIndicator();
    const first = await dispute(exchangeA, id);
    const second = await dispute(exchangeB, id);
    const one = await app.gql(RESOLVE, { id: first.id, upheld: false }, coordinator.key);
    expect(one.data!.resolveDispute).toMatchObject({ status: 'REJECTED', indicator: { status: 'DISPUTED' } });
    expect(await statusOf(id)).toBe('DISPUTED');
    const two = await app.gql(RESOLVE, { id: second.id, upheld: false }, coordinator.key);
    expect(two.data!.resolveDispute).toMatchObject({ status: 'REJECTED', indicator: { status: 'ACTIVE' } });
  });

  it('still decides a dispute whose indicator moved on meanwhile (expired by the clock): rejected leaves it, upheld revokes it', async () => {
    const id = await activeIndicator();
    const first = await dispute(exchangeA, id);
    const second = await dispute(exchangeB, id);
    // The clock expires a DISPUTED indicator (EXPIRE is allowed from DISPUTED); its disputes stay open.
    await superuserQuery(app.db, `UPDATE statement_state SET status = 'EXPIRED' WHERE indicator_id = $1`, [id]);
    const rejected = await app.gql(RESOLVE, { id: first.id, upheld: false }, coordinator.key);
    expect(rejected.data!.resolveDispute).toMatchObject({ status: 'REJECTED', indicator: { status: 'EXPIRED' } });
    const upheld = await app.gql(RESOLVE, { id: second.id, upheld: true }, coordinator.key);
    expect(upheld.data!.resolveDispute).toMatchObject({ status: 'UPHELD', indicator: { status: 'REVOKED' } });
    const [event] = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE action = 'indicator.uphold_dispute' AND subject_id = $1`, [id]);
    expect(JSON.parse(event.canonical).data).toMatchObject({ from: 'EXPIRED', to: 'REVOKED', disputeId: second.id, upheld: true });
  });

  it('refuses to resolve a resolved dispute with BAD_USER_INPUT naming its status, changing nothing', async () => {
    const id = await activeIndicator();
    const d = await dispute(exchangeA, id);
    await app.gql(RESOLVE, { id: d.id, upheld: false }, coordinator.key);
    const before = await snapshot();
    for (const upheld of [true, false]) {
      const res = await app.gql(RESOLVE, { id: d.id, upheld, note: 'again' }, coordinator.key);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(/REJECTED/);
    }
    const absent = await app.gql(RESOLVE, { id: randomUUID(), upheld: true }, coordinator.key);
    expect(absent.errors?.[0]).toMatchObject({ message: 'id: dispute not found', extensions: { code: 'NOT_FOUND' } });
    expect(await snapshot()).toEqual(before);
    expect(await statusOf(id)).toBe('ACTIVE');
  });

  it('answers a member that cannot see a RED indicator exactly as for an indicator that does not exist', async () => {
    const id = await activeIndicator({ tlp: 'RED', shareWith: [exchangeA.memberId] });
    expect((await app.gql(INDICATOR, { id }, exchangeB.key)).data!.indicator).toBeNull();
    const before = await snapshot();
    const hidden = await app.gql(DISPUTE, { id, reason: 'guess' }, exchangeB.key);
    const absent = await app.gql(DISPUTE, { id: randomUUID(), reason: 'guess' }, exchangeB.key);
    expect(hidden.errors?.[0]).toMatchObject({ message: 'id: indicator not found', extensions: { code: 'NOT_FOUND' } });
    expect(absent.errors).toEqual(hidden.errors);
    expect(hidden.data).toEqual(absent.data);

    const hiddenSighting = await app.gql(SIGHTING, { id, kind: 'SEEN' }, exchangeB.key);
    const absentSighting = await app.gql(SIGHTING, { id: randomUUID(), kind: 'SEEN' }, exchangeB.key);
    expect(hiddenSighting.errors?.[0]).toMatchObject({ message: 'indicatorId: indicator not found', extensions: { code: 'NOT_FOUND' } });
    expect(absentSighting.errors).toEqual(hiddenSighting.errors);
    expect(await snapshot()).toEqual(before);

    // The shareWith member sees it, so it can dispute it and report on it.
    const d = await dispute(exchangeA, id);
    expect(d.indicator).toMatchObject({ id, status: 'DISPUTED' });
    expect((await app.gql(SIGHTING, { id, kind: 'FALSE_POSITIVE' }, exchangeA.key)).errors).toBeUndefined();
  });

  it('scopes the disputes query: curators see every dispute (by status), a member only its own', async () => {
    const id1 = await activeIndicator();
    const id2 = await activeIndicator();
    const a1 = await dispute(exchangeA, id1);
    const b1 = await dispute(exchangeB, id1);
    const b2 = await dispute(exchangeB, id2);
    await app.gql(RESOLVE, { id: b2.id, upheld: false }, coordinator.key);

    const all = await app.gql(DISPUTES, { first: 500 }, coordinator.key);
    const allIds = all.data!.disputes.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(allIds).toEqual(expect.arrayContaining([a1.id, b1.id, b2.id]));
    const open = await app.gql(DISPUTES, { status: 'OPEN', first: 500 }, coordinator.key);
    const openNodes = open.data!.disputes.edges.map((e: { node: { id: string; status: string } }) => e.node);
    expect(openNodes.every((n: { status: string }) => n.status === 'OPEN')).toBe(true);
    expect(openNodes.map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining([a1.id, b1.id]));
    expect(openNodes.map((n: { id: string }) => n.id)).not.toContain(b2.id);
    const onOne = await app.gql(DISPUTES, { indicatorId: id1 }, coordinator.key);
    expect(onOne.data!.disputes.edges.map((e: { node: { id: string } }) => e.node.id).sort()).toEqual([a1.id, b1.id].sort());

    const forB = await app.gql(DISPUTES, { first: 500 }, exchangeB.key);
    const bNodes = forB.data!.disputes.edges.map((e: { node: { id: string; member: { id: string } } }) => e.node);
    expect(bNodes.length).toBeGreaterThanOrEqual(2);
    expect(bNodes.every((n: { member: { id: string } }) => n.member.id === exchangeB.memberId)).toBe(true);
    expect(bNodes.map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining([b1.id, b2.id]));
    const forScreener = await app.gql(DISPUTES, {}, screener.key);
    expect(forScreener.data!.disputes.edges).toEqual([]);
    // Another member's dispute by id: null, as absent.
    const other = await app.gql(`query($id: ID!) { dispute(id: $id) { id } }`, { id: a1.id }, exchangeB.key);
    expect(other.data!.dispute).toBeNull();

    // Pages: oldest first, following the cursor gives every dispute once.
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await app.gql(DISPUTES, { first: 2, after }, coordinator.key);
      expect(page.errors).toBeUndefined();
      seen.push(...page.data.disputes.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!page.data.disputes.pageInfo.hasNextPage) break;
      after = page.data.disputes.pageInfo.endCursor;
    }
    expect(seen).toEqual(allIds);

    const bad = await app.gql(DISPUTES, { status: 'CLOSED' }, coordinator.key);
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(bad.errors?.[0].message).toMatch(/^status: must be one of OPEN, UPHELD, REJECTED/);
    const badCursor = await app.gql(DISPUTES, { after: 'xyz' }, coordinator.key);
    expect(badCursor.errors?.[0].message).toBe('after: is not a cursor returned by this query');
  });

  it('counts sightings per kind over all members on the indicator (once per member and kind), batched for a page of indicators', async () => {
    const since = new Date(Date.now() - 2000).toISOString();
    const id = await activeIndicator();
    const id2 = await activeIndicator();
    expect((await app.gql(SIGHTING, { id: id2, kind: 'FALSE_POSITIVE' }, exchangeB.key)).errors).toBeUndefined();
    for (const [party, kind] of [
      [exchangeA, 'SEEN'],
      [exchangeA, 'SEEN'],
      [exchangeB, 'SEEN'],
      [screener, 'FALSE_POSITIVE'],
      [exchangeA, 'ACTIONED'],
    ] as const) {
      const res = await app.gql(SIGHTING, { id, kind }, party.key);
      expect(res.errors).toBeUndefined();
    }
    const res = await app.gql(INDICATOR, { id }, screener.key);
    // exchangeA's second SEEN does not count again (issue 18: once per member and kind).
    expect(res.data!.indicator.sightings).toEqual({ seen: 2, falsePositive: 1, actioned: 1 });
    const list = await app.gql(
      `query($since: DateTime!) { indicators(first: 20, filter: { updatedSince: $since }) { edges { node { id sightings { seen falsePositive actioned } } } } }`,
      { since },
      exchangeB.key,
    );
    expect(list.errors).toBeUndefined();
    const nodes = new Map(list.data!.indicators.edges.map((e: { node: { id: string; sightings: unknown } }) => [e.node.id, e.node.sightings]));
    expect(nodes.get(id)).toEqual({ seen: 2, falsePositive: 1, actioned: 1 });
    expect(nodes.get(id2)).toEqual({ seen: 0, falsePositive: 1, actioned: 0 });
    const fresh = await activeIndicator();
    expect((await app.gql(INDICATOR, { id: fresh }, screener.key)).data!.indicator.sightings).toEqual({ seen: 0, falsePositive: 0, actioned: 0 });

    const [event] = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE action = 'sighting.report' ORDER BY idx DESC LIMIT 1`);
    expect(JSON.parse(event.canonical).data).toMatchObject({ indicatorId: id, kind: 'ACTIONED' });
    const wrongKind = await app.gql(SIGHTING, { id, kind: 'LIKED' }, exchangeA.key);
    expect(wrongKind.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers FORBIDDEN for the wrong roles, and refused mutations change nothing', async () => {
    const id = await activeIndicator();
    const d = await dispute(exchangeA, id);
    const before = await snapshot();
    const cases: [TestKey, string, Record<string, unknown>][] = [
      [screener.key, DISPUTE, { id, reason: 'screeners do not dispute' }],
      [auditor.key, DISPUTE, { id, reason: 'nor auditors' }],
      [exchangeA.key, RESOLVE, { id: d.id, upheld: true }],
      [exchangeB.key, RESOLVE, { id: d.id, upheld: false }],
      [auditor.key, SIGHTING, { id, kind: 'SEEN' }],
    ];
    for (const [key, query, variables] of cases) {
      const res = await app.gql(query, variables, key);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(res.data).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
    expect(await statusOf(id)).toBe('DISPUTED');
    // A screener may report sightings; any authenticated principal reads its own notifications.
    expect((await app.gql(SIGHTING, { id, kind: 'SEEN' }, screener.key)).errors).toBeUndefined();
    expect((await app.gql(NOTIFICATIONS, {}, auditor.key)).data!.notifications).toEqual([]);
  });
});
