import { randomUUID } from 'node:crypto';
import { ExpirySweeper } from '../../apps/api/src/modules/curation/expiry-sweeper.js';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT, SUBMIT_MANY } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };
type Ind = { id: string; status: string; version: number };

const FIELDS = 'id status version attestationCount createdAt';

const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $note: String, $expectedStatus: IndicatorStatus, $expectedVersion: Int) {
  reviewIndicator(id: $id, decision: $decision, note: $note, expectedStatus: $expectedStatus, expectedVersion: $expectedVersion) { ${FIELDS} }
}`;
const REVOKE = `mutation($id: ID!, $reason: String!, $expectedVersion: Int) {
  revokeIndicator(id: $id, reason: $reason, expectedVersion: $expectedVersion) { ${FIELDS} }
}`;
const EXPIRE = `mutation($id: ID!, $expectedVersion: Int) { expireIndicator(id: $id, expectedVersion: $expectedVersion) { ${FIELDS} } }`;
const REVIEW_MANY = `mutation($items: [ReviewItemInput!]!) {
  reviewIndicators(items: $items) { id ok code error indicator { id status version } }
}`;
const QUEUE = `query($first: Int, $after: String) {
  reviewQueue(first: $first, after: $after) {
    edges { cursor node { id status createdAt attestationCount statements { id jti } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const INDICATOR = `query($id: ID!) { indicator(id: $id) { ${FIELDS} } }`;

function code(res: GraphqlResponse): string | undefined {
  return res.errors?.[0].extensions?.code;
}

describe('curation (SPEC 3, 7): reviews, revocation, expiry, queues', () => {
  let app: TestApp;
  let exchange: Party; // CRYPTO_EXCHANGE with every role it may hold
  let processor: Party; // CARD_PROCESSOR contributor, for corroboration and sightings
  let curator: Party;
  let curator2: Party;
  let coordinatorNoCurator: Party;

  beforeAll(async () => {
    app = await startTestApp();
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'CONTRIBUTOR', 'AUDITOR']);
    processor = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER', 'CONTRIBUTOR']);
    curator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR']);
    curator2 = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'SCREENER']);
    coordinatorNoCurator = await createMemberWithPrincipal(app, 'COORDINATOR', ['ADMIN', 'AUDITOR', 'CONTRIBUTOR', 'SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** Everything a curation mutation may change: statements' curation state, the feed, curation rows, notifications. */
  async function snapshot() {
    const [row] = await superuserQuery<{ indicators: unknown; curation: number; notifications: number; statements: number }>(
      app.db,
      `SELECT (SELECT coalesce(json_agg(json_build_array(statement_id, status, status_before_dispute, disputed_by) ORDER BY statement_id), '[]')
                 FROM statement_state) AS states,
              (SELECT count(*)::int FROM indicator_change) AS changes,
              (SELECT count(*)::int FROM curation) AS curation,
              (SELECT count(*)::int FROM notification) AS notifications,
              (SELECT count(*)::int FROM statement) AS statements`,
    );
    return row;
  }

  /** A fresh indicator a non-coordinator submitted: PENDING, version 1. */
  async function submitPending(by: Party = exchange, overrides: Record<string, unknown> = {}): Promise<Ind & { value: string }> {
    const value = nextAddress();
    const jws = await statement(by.key, { iss: by.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value }, ...overrides });
    const res = await app.gql(SUBMIT, { jws }, by.key);
    expect(res.errors).toBeUndefined();
    const { id, status } = res.data!.submitStatement.indicator;
    expect(status).toBe('PENDING');
    const read = await app.gql(INDICATOR, { id }, curator.key);
    return { ...read.data!.indicator, value: value.toLowerCase() };
  }

  async function active(): Promise<Ind> {
    const ind = await submitPending();
    const res = await app.gql(REVIEW, { id: ind.id, decision: 'APPROVE' }, curator.key);
    expect(res.errors).toBeUndefined();
    return res.data!.reviewIndicator;
  }

  async function curationRows(indicatorId: string) {
    return superuserQuery<{ action: string; from_status: string; to_status: string; note: string | null; actor_principal_id: string | null }>(
      app.db,
      'SELECT action, from_status, to_status, note, actor_principal_id FROM curation WHERE indicator_id = $1 ORDER BY at, id',
      [indicatorId],
    );
  }

  async function auditEvents(action: string, subjectId: string | null = null) {
    return superuserQuery<{ actor_principal_id: string | null; canonical: string }>(
      app.db,
      `SELECT actor_principal_id, canonical FROM audit_event WHERE action = $1 AND ($2::text IS NULL OR subject_id = $2) ORDER BY idx`,
      [action, subjectId],
    );
  }

  it('approves a PENDING indicator: ACTIVE, version up, a curation row and an audit event in the same change', async () => {
    const ind = await submitPending();
    expect(ind.version).toBe(1);
    const res = await app.gql(REVIEW, { id: ind.id, decision: 'APPROVE', note: '  confirmed by hotline  ' }, curator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.reviewIndicator).toMatchObject({ id: ind.id, status: 'ACTIVE', version: 2, attestationCount: 1 });
    expect(await curationRows(ind.id)).toEqual([
      { action: 'APPROVE', from_status: 'PENDING', to_status: 'ACTIVE', note: 'confirmed by hotline', actor_principal_id: curator.principalId },
    ]);
    const events = await auditEvents('indicator.approve', ind.id);
    expect(events).toHaveLength(1);
    expect(events[0].actor_principal_id).toBe(curator.principalId);
    expect(JSON.parse(events[0].canonical).data).toMatchObject({ from: 'PENDING', to: 'ACTIVE', note: 'confirmed by hotline' });
    // Every member sees the decision.
    const seen = await app.gql(INDICATOR, { id: ind.id }, exchange.key);
    expect(seen.data!.indicator).toMatchObject({ status: 'ACTIVE', version: 2 });
  });

  it('rejects a PENDING indicator; it stays on record, readable with its status, with its history', async () => {
    const ind = await submitPending();
    const res = await app.gql(REVIEW, { id: ind.id, decision: 'REJECT', note: 'benign: an exchange hot wallet' }, curator.key);
    expect(res.data!.reviewIndicator).toMatchObject({ status: 'REJECTED', version: 2 });
    for (const who of [curator, exchange]) {
      const read = await app.gql(INDICATOR, { id: ind.id }, who.key);
      expect(read.data!.indicator).toMatchObject({ id: ind.id, status: 'REJECTED' });
    }
    expect(await curationRows(ind.id)).toEqual([
      { action: 'REJECT', from_status: 'PENDING', to_status: 'REJECTED', note: 'benign: an exchange hot wallet', actor_principal_id: curator.principalId },
    ]);
    const [{ n }] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM statement WHERE indicator_id = $1', [ind.id]);
    expect(n).toBe(1);
  });

  it('revokes with a required reason; the revoked indicator stays readable, with its history', async () => {
    const ind = await active();
    const before = await snapshot();
    for (const reason of ['', '   ']) {
      const refused = await app.gql(REVOKE, { id: ind.id, reason }, curator.key);
      expect(code(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors![0].message).toMatch(/^reason: /);
    }
    expect(await snapshot()).toEqual(before);

    const res = await app.gql(REVOKE, { id: ind.id, reason: 'court order 2025/17' }, curator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.revokeIndicator).toMatchObject({ status: 'REVOKED', version: 3 });
    const read = await app.gql(INDICATOR, { id: ind.id }, exchange.key);
    expect(read.data!.indicator).toMatchObject({ id: ind.id, status: 'REVOKED', version: 3 });
    expect((await curationRows(ind.id)).map((r) => [r.action, r.from_status, r.to_status, r.note])).toEqual([
      ['APPROVE', 'PENDING', 'ACTIVE', null],
      ['REVOKE', 'ACTIVE', 'REVOKED', 'court order 2025/17'],
    ]);
    expect(await auditEvents('indicator.revoke', ind.id)).toHaveLength(1);
  });

  it('expires an indicator by hand, and revokes an EXPIRED one', async () => {
    const pending = await submitPending();
    const expired = await app.gql(EXPIRE, { id: pending.id }, curator.key);
    expect(expired.data!.expireIndicator).toMatchObject({ status: 'EXPIRED', version: 2 });
    const act = await active();
    const expired2 = await app.gql(EXPIRE, { id: act.id, expectedVersion: act.version }, curator.key);
    expect(expired2.data!.expireIndicator).toMatchObject({ status: 'EXPIRED', version: 3 });
    const revoked = await app.gql(REVOKE, { id: act.id, reason: 'false positive after all' }, curator.key);
    expect(revoked.data!.revokeIndicator).toMatchObject({ status: 'REVOKED', version: 4 });
    expect((await curationRows(act.id)).map((r) => r.action)).toEqual(['APPROVE', 'EXPIRE', 'REVOKE']);
  });

  it('refuses every disallowed transition with BAD_USER_INPUT naming the current status, and changes nothing', async () => {
    const act = await active();
    const rejected = await submitPending();
    await app.gql(REVIEW, { id: rejected.id, decision: 'REJECT' }, curator.key);
    const revoked = await active();
    await app.gql(REVOKE, { id: revoked.id, reason: 'gone' }, curator.key);
    const expired = await submitPending();
    await app.gql(EXPIRE, { id: expired.id }, curator.key);

    const cases: [string, string, Record<string, unknown>, string][] = [
      ['ACTIVE', act.id, { decision: 'APPROVE' }, REVIEW],
      ['ACTIVE', act.id, { decision: 'REJECT' }, REVIEW],
      ['REJECTED', rejected.id, { decision: 'APPROVE' }, REVIEW],
      ['REJECTED', rejected.id, { decision: 'REJECT' }, REVIEW],
      ['REJECTED', rejected.id, { reason: 'x' }, REVOKE],
      ['REJECTED', rejected.id, {}, EXPIRE],
      ['REVOKED', revoked.id, { decision: 'APPROVE' }, REVIEW],
      ['REVOKED', revoked.id, { decision: 'REJECT' }, REVIEW],
      ['REVOKED', revoked.id, { reason: 'again' }, REVOKE],
      ['REVOKED', revoked.id, {}, EXPIRE],
      ['EXPIRED', expired.id, { decision: 'APPROVE' }, REVIEW],
      ['EXPIRED', expired.id, { decision: 'REJECT' }, REVIEW],
      ['EXPIRED', expired.id, {}, EXPIRE],
    ];
    const before = await snapshot();
    for (const [status, id, args, mutation] of cases) {
      const res = await app.gql(mutation, { id, ...args }, curator.key);
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toContain(`the indicator is ${status}`);
      expect(res.data).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers NOT_FOUND for an unknown id and BAD_USER_INPUT for a malformed one, changing nothing', async () => {
    const before = await snapshot();
    for (const [mutation, args] of [
      [REVIEW, { decision: 'APPROVE' }],
      [REVOKE, { reason: 'x' }],
      [EXPIRE, {}],
    ] as const) {
      const unknown = await app.gql(mutation, { id: randomUUID(), ...args }, curator.key);
      expect(code(unknown)).toBe('NOT_FOUND');
      const malformed = await app.gql(mutation, { id: 'not-a-uuid', ...args }, curator.key);
      expect(code(malformed)).toBe('BAD_USER_INPUT');
      expect(malformed.errors![0].message).toBe('id: must be a UUID');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a stale expectedVersion or expectedStatus with CONFLICT, changing nothing', async () => {
    const ind = await submitPending();
    const approved = await app.gql(REVIEW, { id: ind.id, decision: 'APPROVE', expectedStatus: 'PENDING', expectedVersion: 1 }, curator.key);
    expect(approved.data!.reviewIndicator).toMatchObject({ status: 'ACTIVE', version: 2 });

    const pending = await submitPending();
    const before = await snapshot();
    const staleVersion = await app.gql(REVIEW, { id: pending.id, decision: 'APPROVE', expectedVersion: 7 }, curator.key);
    expect(code(staleVersion)).toBe('CONFLICT');
    expect(staleVersion.errors![0].message).toMatch(/version 1 now, not 7; nothing changed/);
    const staleStatus = await app.gql(REVIEW, { id: pending.id, decision: 'REJECT', expectedStatus: 'ACTIVE' }, curator.key);
    expect(code(staleStatus)).toBe('CONFLICT');
    expect(staleStatus.errors![0].message).toMatch(/PENDING now, not ACTIVE; nothing changed/);
    const staleRevoke = await app.gql(REVOKE, { id: ind.id, reason: 'x', expectedVersion: 1 }, curator.key);
    expect(code(staleRevoke)).toBe('CONFLICT');
    const staleExpire = await app.gql(EXPIRE, { id: ind.id, expectedVersion: 1 }, curator.key);
    expect(code(staleExpire)).toBe('CONFLICT');
    expect(await snapshot()).toEqual(before);
    const read = await app.gql(INDICATOR, { id: pending.id }, curator.key);
    expect(read.data!.indicator).toMatchObject({ status: 'PENDING', version: 1 });
  });

  it('lets exactly one of two curators deciding the same item at once win; the other gets CONFLICT', async () => {
    for (let round = 0; round < 3; round++) {
      const ind = await submitPending();
      const [a, b] = await Promise.all([
        app.gql(REVIEW, { id: ind.id, decision: 'APPROVE', expectedVersion: ind.version }, curator.key),
        app.gql(REVIEW, { id: ind.id, decision: 'REJECT', expectedVersion: ind.version }, curator2.key),
      ]);
      const winners = [a, b].filter((r) => !r.errors);
      const losers = [a, b].filter((r) => r.errors);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(code(losers[0])).toBe('CONFLICT');
      const won = winners[0].data!.reviewIndicator;
      expect(won.version).toBe(2);
      const rows = await curationRows(ind.id);
      expect(rows).toHaveLength(1);
      expect(rows[0].to_status).toBe(won.status);
      const read = await app.gql(INDICATOR, { id: ind.id }, exchange.key);
      expect(read.data!.indicator).toMatchObject({ status: won.status, version: 2 });
    }
  });

  it('reviews in bulk with one outcome per item, in input order; a bad item never fails the rest', async () => {
    const [a, b, c, conflict] = await Promise.all([submitPending(), submitPending(), submitPending(), submitPending()]);
    const alreadyActive = await active();
    const unknown = randomUUID();
    const items = [
      { id: a.id, decision: 'APPROVE', note: 'bulk ok', expectedStatus: 'PENDING' },
      { id: 'nope', decision: 'APPROVE' },
      { id: unknown, decision: 'REJECT' },
      { id: conflict.id, decision: 'APPROVE', expectedVersion: 5 },
      { id: alreadyActive.id, decision: 'APPROVE' },
      { id: b.id, decision: 'REJECT', expectedVersion: 1 },
      { id: a.id, decision: 'REJECT' },
      { id: c.id.toUpperCase(), decision: 'APPROVE', note: '\u0007bell' },
      { id: conflict.id, decision: 'APPROVE', expectedStatus: 'ACTIVE' },
    ];
    const res = await app.gql(REVIEW_MANY, { items }, curator.key);
    expect(res.errors).toBeUndefined();
    const outcomes = res.data!.reviewIndicators;
    expect(outcomes.map((o: { id: string; ok: boolean; code: string | null; indicator: { status: string } | null }) => [o.id, o.ok, o.code, o.indicator?.status ?? null])).toEqual([
      [a.id, true, null, 'ACTIVE'],
      ['nope', false, 'BAD_USER_INPUT', null],
      [unknown, false, 'NOT_FOUND', null],
      [conflict.id, false, 'CONFLICT', null],
      [alreadyActive.id, false, 'BAD_USER_INPUT', null],
      [b.id, true, null, 'REJECTED'],
      [a.id, false, 'BAD_USER_INPUT', null],
      [c.id.toUpperCase(), false, 'BAD_USER_INPUT', null],
      [conflict.id, false, 'CONFLICT', null],
    ]);
    expect(outcomes[1].error).toBe('id: must be a UUID');
    expect(outcomes[3].error).toMatch(/version 1 now, not 5/);
    expect(outcomes[4].error).toMatch(/the indicator is ACTIVE/);
    expect(outcomes[6].error).toMatch(/the indicator is ACTIVE/);
    expect(outcomes[7].error).toMatch(/^note: must not contain control characters/);
    // The refused items changed nothing.
    for (const [ind, status, version] of [[conflict, 'PENDING', 1], [c, 'PENDING', 1], [alreadyActive, 'ACTIVE', 2], [a, 'ACTIVE', 2]] as const) {
      const read = await app.gql(INDICATOR, { id: ind.id }, curator.key);
      expect(read.data!.indicator).toMatchObject({ status, version });
    }
    expect((await curationRows(conflict.id)).length).toBe(0);
    expect((await curationRows(a.id)).map((r) => r.action)).toEqual(['APPROVE']);
  });

  it('caps a bulk review at 1000 items (BAD_USER_INPUT, nothing changed)', async () => {
    const ind = await submitPending();
    const before = await snapshot();
    const items = [{ id: ind.id, decision: 'APPROVE' }, ...Array.from({ length: 1000 }, () => ({ id: randomUUID(), decision: 'REJECT' }))];
    const res = await app.gql(REVIEW_MANY, { items }, curator.key);
    expect(code(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/^items: at most 1000 items per call, got 1001/);
    expect(await snapshot()).toEqual(before);
  });

  it('decides 1000 items in one call (the cap), each its own transaction and audit event', async () => {
    const jws = await Promise.all(Array.from({ length: 1000 }, () => statement(exchange.key, { iss: exchange.principalId })));
    const submitted = await app.gql(SUBMIT_MANY, { jws }, exchange.key);
    const ids: string[] = submitted.data!.submitStatements.map((o: { result: { indicator: { id: string } } }) => o.result.indicator.id);
    const [{ n: eventsBefore }] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'indicator.approve'`);
    const res = await app.gql(REVIEW_MANY, { items: ids.map((id) => ({ id, decision: 'APPROVE', expectedVersion: 1 })) }, curator.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.reviewIndicators.map((o: { id: string; ok: boolean }) => o.id)).toEqual(ids);
    expect(res.data!.reviewIndicators.every((o: { ok: boolean; indicator: { status: string } }) => o.ok && o.indicator.status === 'ACTIVE')).toBe(true);
    const [{ n: eventsAfter }] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'indicator.approve'`);
    expect(eventsAfter - eventsBefore).toBe(1000);
  }, 120_000);

  it('lists the review queue: PENDING only, oldest first, with statements and attestation counts, paged with first/after', async () => {
    const first = await submitPending();
    // Corroboration from a second member: one indicator, two statements.
    const jws = await statement(processor.key, { iss: processor.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: first.value } });
    const corroborated = await app.gql(SUBMIT, { jws }, processor.key);
    expect(corroborated.data!.submitStatement.indicator).toMatchObject({ id: first.id, attestationCount: 2 });
    const second = await submitPending(processor);
    const third = await submitPending();
    await app.gql(REVIEW, { id: third.id, decision: 'APPROVE' }, curator.key); // leaves the queue

    const expected = (
      await superuserQuery<{ id: string }>(
        app.db,
        `SELECT st.indicator_id AS id FROM statement_state st JOIN statement s ON s.id = st.statement_id
          WHERE st.status = 'PENDING' AND (s.expires_at IS NULL OR s.expires_at > now())
          GROUP BY st.indicator_id ORDER BY min(s.received_at), st.indicator_id`,
      )
    ).map((r) => r.id);
    const whole = await app.gql(QUEUE, { first: 500 }, curator.key);
    expect(whole.errors).toBeUndefined();
    type Edge = { cursor: string; node: { id: string; status: string; createdAt: string; attestationCount: number; statements: { id: string; jti: string }[] } };
    const edges: Edge[] = whole.data!.reviewQueue.edges;
    expect(edges.map((e) => e.node.id)).toEqual(expected);
    expect(whole.data!.reviewQueue.pageInfo.hasNextPage).toBe(false);
    expect(edges.every((e) => e.node.status === 'PENDING')).toBe(true);
    const times = edges.map((e) => Date.parse(e.node.createdAt));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    const ids = edges.map((e) => e.node.id);
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
    expect(ids).not.toContain(third.id);
    const firstNode = edges.find((e) => e.node.id === first.id)!.node;
    expect(firstNode.attestationCount).toBe(2);
    expect(firstNode.statements).toHaveLength(2);
    expect(edges.find((e) => e.node.id === second.id)!.node).toMatchObject({ attestationCount: 1, statements: [expect.objectContaining({ jti: expect.any(String) })] });

    // Paging: pages of 2 add up to the whole queue, in order.
    const paged: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: GraphqlResponse = await app.gql(QUEUE, { first: 2, after }, curator.key);
      expect(page.errors).toBeUndefined();
      const conn = page.data!.reviewQueue;
      paged.push(...conn.edges.map((e: Edge) => e.node.id));
      expect(conn.edges.length).toBeLessThanOrEqual(2);
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(paged).toEqual(expected);

    for (const [args, field] of [
      [{ first: 0 }, 'first'],
      [{ first: 501 }, 'first'],
      [{ after: 'garbage' }, 'after'],
    ] as const) {
      const bad = await app.gql(QUEUE, args, curator.key);
      expect(code(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors![0].message).toMatch(new RegExp(`^${field}: `));
    }
  });

  it('is for curators only: FORBIDDEN for an exchange with every role it may hold and a coordinator without CURATOR; nothing changes', async () => {
    const ind = await submitPending();
    const before = await snapshot();
    for (const party of [exchange, coordinatorNoCurator]) {
      const results = [
        await app.gql(REVIEW, { id: ind.id, decision: 'APPROVE' }, party.key),
        await app.gql(REVOKE, { id: ind.id, reason: 'x' }, party.key),
        await app.gql(EXPIRE, { id: ind.id }, party.key),
        await app.gql(REVIEW_MANY, { items: [{ id: ind.id, decision: 'APPROVE' }] }, party.key),
        await app.gql(QUEUE, {}, party.key),
      ];
      for (const res of results) {
        expect(code(res)).toBe('FORBIDDEN');
        expect(res.data).toBeNull();
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('tells a member that reported ACTIONED when the indicator is revoked (a notification record), and no one else', async () => {
    const ind = await active();
    // reportSighting is another module's work: the sightings go in directly.
    await superuserQuery(app.db, `INSERT INTO sighting (indicator_id, member_id, principal_id, kind) VALUES ($1, $2, $3, 'ACTIONED'), ($1, $2, $3, 'ACTIONED'), ($1, $4, $5, 'SEEN')`, [
      ind.id,
      processor.memberId,
      processor.principalId,
      exchange.memberId,
      exchange.principalId,
    ]);
    const res = await app.gql(REVOKE, { id: ind.id, reason: 'the wallet belongs to a charity' }, curator.key);
    expect(res.data!.revokeIndicator.status).toBe('REVOKED');
    const notes = await superuserQuery<{ member_id: string; kind: string; message: string }>(
      app.db,
      'SELECT member_id, kind, message FROM notification WHERE indicator_id = $1',
      [ind.id],
    );
    expect(notes).toEqual([{ member_id: processor.memberId, kind: 'REVOKED', message: expect.stringContaining('the wallet belongs to a charity') }]);
    expect(notes[0].message).toContain(ind.id);

    // A refused revocation notifies nobody.
    const before = await snapshot();
    const again = await app.gql(REVOKE, { id: ind.id, reason: 'twice' }, curator.key);
    expect(code(again)).toBe('BAD_USER_INPUT');
    expect(await snapshot()).toEqual(before);
  });

  it('expires statements whose exp has passed in a sweep: EXPIRED, feed rows, one audit event', async () => {
    const sweeper = app.server.app.get(ExpirySweeper);
    const now = Math.floor(Date.now() / 1000);
    const soon = await submitPending(exchange, { iat: now, exp: now + 4 });
    const approvedSoon = await submitPending(exchange, { iat: now, exp: now + 4 });
    await app.gql(REVIEW, { id: approvedSoon.id, decision: 'APPROVE' }, curator.key);
    const lasting = await submitPending(exchange, { iat: now, exp: now + 3600 });
    const forever = await submitPending();
    const rejected = await submitPending(exchange, { iat: now, exp: now + 4 });
    await app.gql(REVIEW, { id: rejected.id, decision: 'REJECT' }, curator.key);

    // Nothing is due yet.
    await sweeper.sweep();
    expect((await app.gql(INDICATOR, { id: soon.id }, curator.key)).data!.indicator.status).toBe('PENDING');

    while (Math.floor(Date.now() / 1000) <= now + 4) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 200));
    await sweeper.sweep();

    const read = async (id: string) => (await app.gql(INDICATOR, { id }, exchange.key)).data!.indicator;
    expect(await read(soon.id)).toMatchObject({ status: 'EXPIRED', version: 2, attestationCount: 0 });
    expect(await read(approvedSoon.id)).toMatchObject({ status: 'EXPIRED', version: 3 });
    expect(await read(lasting.id)).toMatchObject({ status: 'PENDING', version: 1 });
    expect(await read(forever.id)).toMatchObject({ status: 'PENDING', version: 1 });
    expect(await read(rejected.id)).toMatchObject({ status: 'REJECTED', version: 2 });

    // The clock's expiry is no curator's decision: no curation row, a feed row per statement.
    expect(await curationRows(soon.id)).toEqual([]);
    expect((await curationRows(approvedSoon.id)).map((r) => [r.action, r.from_status, r.actor_principal_id])).toEqual([['APPROVE', 'PENDING', curator.principalId]]);
    const feed = await superuserQuery<{ change: string; status: string }>(app.db, `SELECT change, status FROM indicator_change WHERE indicator_id = $1 ORDER BY idx`, [approvedSoon.id]);
    expect(feed).toEqual([
      { change: 'CREATED', status: 'PENDING' },
      { change: 'STATUS', status: 'ACTIVE' },
      { change: 'STATUS', status: 'EXPIRED' },
    ]);
    const events = await auditEvents('indicator.expire_sweep');
    const swept = events.map((e) => JSON.parse(e.canonical));
    const mine = swept.filter((e) => e.data.indicatorIds.includes(soon.id));
    expect(mine).toHaveLength(1);
    expect(mine[0].data.indicatorIds).toEqual(expect.arrayContaining([soon.id, approvedSoon.id]));
    expect(mine[0].data.indicatorIds).not.toContain(rejected.id);
    expect(mine[0].actor).toBeNull();

    // A second sweep finds nothing more to do and writes no event.
    const before = await snapshot();
    expect(await sweeper.sweep()).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(await auditEvents('indicator.expire_sweep')).toHaveLength(events.length);

    // The expired indicator leaves the review queue.
    const queue = await app.gql(QUEUE, { first: 500 }, curator.key);
    expect(queue.data!.reviewQueue.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(soon.id);
  });

  it('refuses revoke and expire with a stale expectedStatus as CONFLICT', async () => {
    const ind = await submitPending();
    const revoke = await app.gql(
      `mutation($id: ID!) { revokeIndicator(id: $id, reason: "stale", expectedStatus: ACTIVE) { id } }`,
      { id: ind.id },
      curator.key,
    );
    expect(code(revoke)).toBe('CONFLICT');
    const expire = await app.gql(`mutation($id: ID!) { expireIndicator(id: $id, expectedStatus: DISPUTED) { id } }`, { id: ind.id }, curator.key);
    expect(code(expire)).toBe('CONFLICT');
    const now = await app.gql(INDICATOR, { id: ind.id }, curator.key);
    expect(now.data!.indicator.status).toBe('PENDING');
  });
});
