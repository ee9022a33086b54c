import { createHash } from 'node:crypto';
import * as jose from 'jose';
import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import type { TestKey } from '../support/keys.js';
import { nextAddress, statement, SUBMIT, SUBMIT_MANY } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

describe('signed statements (SPEC 4)', () => {
  let app: TestApp;
  let exchange: Party;
  let coordinator: Party;
  beforeAll(async () => {
    app = await startTestApp();
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function counts() {
    const [row] = await superuserQuery<{ s: number; i: number }>(app.db, 'SELECT (SELECT count(*)::int FROM statement) AS s, (SELECT count(*)::int FROM indicator) AS i');
    return row;
  }

  it('accepts a member’s statement as PENDING, stores the exact JWS, and returns a receipt verifiable with the JWKS', async () => {
    const value = nextAddress();
    const jws = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'polygon', value: value.toUpperCase().replace('0X', '0x') } });
    const res = await app.gql(SUBMIT, { jws }, exchange.key);
    expect(res.errors).toBeUndefined();
    const { receipt, indicator, statement: st } = res.data!.submitStatement;
    expect(indicator).toMatchObject({ status: 'PENDING', kind: 'WALLET_ADDRESS', network: 'ethereum', value: value.toLowerCase(), attestationCount: 1, confidence: 80, tlp: 'GREEN' });
    expect(st.sha256).toBe(createHash('sha256').update(jws).digest('hex'));
    const [row] = await superuserQuery<{ jws: string; audit_index: string }>(app.db, 'SELECT jws, audit_index FROM statement JOIN statement_receipt ON statement_id = id WHERE id = $1', [st.id]);
    expect(row.jws).toBe(jws);

    const jwks = jose.createLocalJWKSet((await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as jose.JSONWebKeySet);
    const { payload, protectedHeader } = await jose.compactVerify(receipt, jwks);
    expect(protectedHeader.typ).toBe('cordon-receipt+jwt');
    const claims = JSON.parse(new TextDecoder().decode(payload));
    expect(claims).toEqual({ statementSha256: st.sha256, indicatorId: indicator.id, acceptedAt: expect.any(String), auditIndex: Number(row.audit_index) });
    const [event] = await superuserQuery<{ action: string; canonical: string }>(app.db, 'SELECT action, canonical FROM audit_event WHERE idx = $1', [row.audit_index]);
    expect(event.action).toBe('statements.accept');
    expect(JSON.parse(event.canonical).data.statements).toEqual([expect.objectContaining({ id: st.id, sha256: st.sha256, indicatorId: indicator.id })]);
  });

  it('makes a coordinator’s statement ACTIVE at once', async () => {
    const jws = await statement(coordinator.key, { iss: coordinator.principalId });
    const res = await app.gql(SUBMIT, { jws }, coordinator.key);
    expect(res.data!.submitStatement.indicator.status).toBe('ACTIVE');
  });

  it('makes an indicator ACTIVE for those who see a coordinator’s statement on it, leaving the earlier unreviewed statement PENDING', async () => {
    const indicator = { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() };
    const first = await app.gql(SUBMIT, { jws: await statement(exchange.key, { iss: exchange.principalId, indicator }) }, exchange.key);
    expect(first.data!.submitStatement.indicator.status).toBe('PENDING');
    const second = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator }) }, coordinator.key);
    const id = first.data!.submitStatement.indicator.id;
    expect(second.data!.submitStatement.indicator).toMatchObject({ status: 'ACTIVE', id });
    // Both statements are GREEN: the exchange sees the coordinator's too, so ACTIVE as well; its own
    // statement is still waiting for a curator (a statement is no decision on another).
    const read = await app.gql(`query($id: ID!) { indicator(id: $id) { status version statements { status } } }`, { id }, exchange.key);
    expect(read.data!.indicator).toEqual({ status: 'ACTIVE', version: 2, statements: [{ status: 'PENDING' }, { status: 'ACTIVE' }] });
    const rows = await superuserQuery(app.db, 'SELECT action FROM curation WHERE indicator_id = $1', [id]);
    expect(rows).toEqual([]);
  });

  it('returns the first result for the same JWS again, and refuses other content under the same jti as REPLAY', async () => {
    const jti = `replay-${Date.now()}`;
    const jws = await statement(exchange.key, { iss: exchange.principalId, jti });
    const first = await app.gql(SUBMIT, { jws }, exchange.key);
    const again = await app.gql(SUBMIT, { jws }, exchange.key);
    expect(again.data!.submitStatement).toEqual(first.data!.submitStatement);
    const before = await counts();
    const other = await statement(exchange.key, { iss: exchange.principalId, jti, confidence: 10 });
    const replay = await app.gql(SUBMIT, { jws: other }, exchange.key);
    expect(replay.errors?.[0].extensions?.code).toBe('REPLAY');
    expect(await counts()).toEqual(before);
  });

  it('ends concurrent submissions of the same statement with exactly one stored', async () => {
    const jws = await statement(exchange.key, { iss: exchange.principalId });
    const results = await Promise.all(Array.from({ length: 8 }, () => app.gql(SUBMIT_MANY, { jws: [jws] }, exchange.key)));
    const ids = new Set(results.map((r) => r.data!.submitStatements[0].result.statement.id));
    expect(results.every((r) => r.data!.submitStatements[0].ok)).toBe(true);
    expect(ids.size).toBe(1);
    const [{ n }] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM statement WHERE sha256 = $1', [createHash('sha256').update(jws).digest('hex')]);
    expect(n).toBe(1);
  });

  it('answers a batch item by item, in order; one bad item never fails the rest', async () => {
    const good1 = await statement(exchange.key, { iss: exchange.principalId });
    const badValue = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv' } });
    const badClaims = await statement(exchange.key, { iss: exchange.principalId, confidence: 101 });
    const good2 = await statement(exchange.key, { iss: exchange.principalId });
    const res = await app.gql(SUBMIT_MANY, { jws: [good1, badValue, 'not.a.jws', badClaims, good2] }, exchange.key);
    const outcomes = res.data!.submitStatements;
    expect(outcomes.map((o: { ok: boolean; code: string | null }) => [o.ok, o.code])).toEqual([
      [true, null],
      [false, 'INVALID_VALUE'],
      [false, 'MALFORMED'],
      [false, 'BAD_CLAIMS'],
      [true, null],
    ]);
    expect(outcomes[1].error).toMatch(/^claims\.indicator\.value: .*checksum.*\(BAD_CHECKSUM\)$/);
    expect(outcomes[3].error).toMatch(/^claims\.confidence:/);
  });

  it('does not deadlock when two members submit overlapping batches in opposite orders', async () => {
    const other = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    for (let round = 0; round < 3; round++) {
      const values = Array.from({ length: 400 }, () => nextAddress());
      const mine = await Promise.all(values.map((value) => statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } })));
      const theirs = await Promise.all(
        [...values].reverse().map((value) => statement(other.key, { iss: other.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } })),
      );
      const [a, b] = await Promise.all([app.gql(SUBMIT_MANY, { jws: mine }, exchange.key), app.gql(SUBMIT_MANY, { jws: theirs }, other.key)]);
      expect(a.errors).toBeUndefined();
      expect(b.errors).toBeUndefined();
      expect(a.data!.submitStatements.every((o: { ok: boolean }) => o.ok)).toBe(true);
      expect(b.data!.submitStatements.every((o: { ok: boolean }) => o.ok)).toBe(true);
    }
  });

  it('refuses impossible dates and control characters in evidence per item, never failing the batch', async () => {
    const good = await statement(exchange.key, { iss: exchange.principalId });
    const badDates = await Promise.all(
      ['0000-01-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', 'yesterday'].map((observedAt) =>
        statement(exchange.key, { iss: exchange.principalId, evidence: { observedAt } }),
      ),
    );
    const nul = await statement(exchange.key, { iss: exchange.principalId, evidence: { reference: 'a\u0000b' } });
    const res = await app.gql(SUBMIT_MANY, { jws: [good, ...badDates, nul] }, exchange.key);
    expect(res.errors).toBeUndefined();
    const outcomes = res.data!.submitStatements as { ok: boolean; code: string; error: string }[];
    expect(outcomes[0].ok).toBe(true);
    for (const o of outcomes.slice(1, 5)) expect(o).toMatchObject({ ok: false, code: 'BAD_CLAIMS', error: expect.stringMatching(/^claims\.evidence\.observedAt/) });
    expect(outcomes[5]).toMatchObject({ ok: false, code: 'BAD_CLAIMS', error: expect.stringMatching(/^claims\.evidence\.reference/) });
  });

  it('returns the first result for the same JWS even after its value was excluded', async () => {
    const value = nextAddress();
    const jws = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } });
    const first = await app.gql(SUBMIT, { jws }, exchange.key);
    const excluded = await app.gql('mutation($i: ExclusionInput!) { addExclusion(input: $i) { id } }', {
      i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value, reason: 'hot wallet' },
    });
    expect(excluded.errors).toBeUndefined();
    const again = await app.gql(SUBMIT, { jws }, exchange.key);
    expect(again.data!.submitStatement.receipt).toBe(first.data!.submitStatement.receipt);
    const fresh = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } });
    expect((await app.gql(SUBMIT, { jws: fresh }, exchange.key)).errors?.[0].extensions?.code).toBe('EXCLUDED');
  });

  it('answers a new indicator’s fields from its one statement, to the submitter and to a member it is shared with, and to nobody else', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const shared = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    const outsider = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    const jws = await statement(exchange.key, { iss: exchange.principalId, confidence: 66, tlp: 'RED', shareWith: [shared.memberId], exp });
    const res = await app.gql(SUBMIT, { jws }, exchange.key);
    const id = res.data!.submitStatement.indicator.id;
    const q = `query($id: ID!) { indicator(id: $id) { attestationCount confidence tlp category supportedUntil status version } }`;
    const expected = { attestationCount: 1, confidence: 66, tlp: 'RED', category: 'CSAM_COMMERCIAL', status: 'PENDING', version: 1 };
    for (const who of [exchange, shared]) {
      const read = (await app.gql(q, { id }, who.key)).data!.indicator;
      expect(read).toMatchObject(expected);
      expect(new Date(read.supportedUntil).getTime()).toBe(exp * 1000);
    }
    expect((await app.gql(q, { id }, outsider.key)).data!.indicator).toBeNull();
  });

  it('refuses a statement whose claims repeat a member (two parsers could read two statements)', async () => {
    const { claims } = await import('../support/statements.js');
    const body = JSON.stringify(claims({ iss: exchange.principalId, tlp: 'CLEAR' })).replace(/}$/, ',"tlp":"RED"}');
    const key = await jose.importJWK(exchange.key.privateJwk, exchange.key.privateJwk.alg);
    const jws = await new jose.CompactSign(new TextEncoder().encode(body))
      .setProtectedHeader({ alg: exchange.key.privateJwk.alg, kid: exchange.key.kid, typ: 'cordon-statement+jwt' })
      .sign(key);
    const res = await app.gql(SUBMIT, { jws }, exchange.key);
    expect(res.errors?.[0].extensions?.code).toBe('MALFORMED');
    expect(res.errors?.[0].message).toMatch(/"tlp" appears twice/);
  });
});
