import { randomUUID } from 'node:crypto';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { addCategories, createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const READ = `query($id: ID!) {
  indicator(id: $id) { id attestationCount statements { id jws sha256 tlp issuer { id keys { kid } } } sites { fingerprint url } }
}`;
const LIST = `query($m: ID) { indicators(first: 100, filter: { member: $m }) { edges { node { id } } } }`;

/**
 * SPEC 3 visibility matrix: for each TLP × viewer (same member, other member, a member named in
 * shareWith, a coordinator) × read path (indicator, indicators, statements, sites, jws).
 */
describe('visibility (SPEC 3): TLP × viewer × read path', () => {
  let app: TestApp;
  let submitter: Party;
  let colleague: Party; // another principal of the submitter's member
  let other: Party;
  let shared: Party;
  let coordinator: Party;

  beforeAll(async () => {
    app = await startTestApp();
    await addCategories(app, ['OPEN_CAT', 'SECRET_CAT']);
    submitter = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    other = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER', 'CONTRIBUTOR']);
    shared = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'SCREENER']);
    const { newKey } = await import('../support/keys.js');
    const key = await newKey();
    const res = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: submitter.memberId, name: 'colleague', roles: ['SCREENER'], publicJwk: key.publicJwk },
    });
    colleague = { memberId: submitter.memberId, principalId: res.data!.createPrincipal.id, key };
  });
  afterAll(async () => {
    await app?.stop();
  });

  const expectations: Record<string, { colleague: boolean; other: boolean; shared: boolean; coordinator: boolean }> = {
    CLEAR: { colleague: true, other: true, shared: true, coordinator: true },
    GREEN: { colleague: true, other: true, shared: true, coordinator: true },
    AMBER: { colleague: true, other: true, shared: true, coordinator: true },
    AMBER_STRICT: { colleague: true, other: false, shared: true, coordinator: true },
    RED: { colleague: true, other: false, shared: true, coordinator: true },
  };

  describe.each(Object.keys(expectations))('TLP %s', (tlp) => {
    let indicatorId: string;
    let statementId: string;
    const site = `https://abuse-${randomUUID().slice(0, 8)}.example/pay?id=1`;
    const value = nextAddress();
    beforeAll(async () => {
      const jws = await statement(submitter.key, {
        iss: submitter.principalId,
        indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value },
        tlp,
        shareWith: [shared.memberId],
        evidence: { sites: [site], reference: 'hotline report 1' },
      });
      const res = await app.gql(SUBMIT, { jws }, submitter.key);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      indicatorId = res.data!.submitStatement.indicator.id;
      statementId = res.data!.submitStatement.statement.id;
      // ACTIVE, so that screening matches follow visibility alone (PENDING matches only curators).
      const approved = await app.gql(`mutation($id: ID!) { reviewIndicator(id: $id, decision: APPROVE) { id } }`, { id: indicatorId }, app.admin);
      if (approved.errors) throw new Error(JSON.stringify(approved.errors));
    });

    it.each(['colleague', 'other', 'shared', 'coordinator'] as const)('as %s', async (who) => {
      const viewer = { colleague, other, shared, coordinator }[who];
      const visible = expectations[tlp][who];
      const read = await app.gql(READ, { id: indicatorId }, viewer.key);
      expect(read.errors).toBeUndefined();
      // Screening matches exactly where the indicator is visible.
      const screened = await app.gql(`query($v: String!) { screen(input: { kind: WALLET_ADDRESS, value: $v }) { match } }`, { v: value }, viewer.key);
      expect(screened.data!.screen.match).toBe(visible);
      const listed = await app.gql(LIST, { m: submitter.memberId }, viewer.key);
      expect(listed.errors).toBeUndefined();
      const ids = listed.data!.indicators.edges.map((e: { node: { id: string } }) => e.node.id);
      if (!visible) {
        // Not there at all: the same answer as for an id that never existed.
        expect(read.data!.indicator).toBeNull();
        expect((await app.gql(READ, { id: randomUUID() }, viewer.key)).data).toEqual(read.data);
        expect(ids).not.toContain(indicatorId);
        return;
      }
      expect(ids).toContain(indicatorId);
      const indicator = read.data!.indicator;
      expect(indicator.attestationCount).toBe(1);
      expect(indicator.statements.map((s: { id: string }) => s.id)).toEqual([statementId]);
      const [st] = indicator.statements;
      // The raw JWS carries the site URLs: issuer's member and coordinators only.
      const seesJws = who === 'colleague' || who === 'coordinator';
      expect(st.jws === null).toBe(!seesJws);
      if (seesJws) expect(st.jws).toContain('.');
      expect(st.sha256).toMatch(/^[0-9a-f]{64}$/);
      // Another member's issuer shows only the signing key.
      expect(st.issuer.keys).toEqual([{ kid: submitter.key.kid }]);
      // Sites: the fingerprint for all who see the statement, the URL for coordinators only.
      expect(indicator.sites).toHaveLength(1);
      expect(indicator.sites[0].fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(indicator.sites[0].url).toBe(who === 'coordinator' ? site : null);
      expect(JSON.stringify(read).includes(site)).toBe(who === 'coordinator');
    });
  });

  it('audits a coordinator’s read of a site URL, once per request', async () => {
    const [before] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'site.url.read'`);
    const list = await app.gql(`{ indicators(first: 50) { edges { node { sites { url } } } } }`, {}, coordinator.key);
    expect(list.errors).toBeUndefined();
    const [after] = await superuserQuery<{ n: number; c: string }>(
      app.db,
      `SELECT count(*) OVER ()::int AS n, canonical AS c FROM audit_event WHERE action = 'site.url.read' ORDER BY idx DESC LIMIT 1`,
    );
    expect(after.n).toBe(before.n + 1);
    expect(JSON.parse(after.c).data.sites.length).toBeGreaterThanOrEqual(5);
    expect(after.c).not.toContain('https://');
  });

  it('audits every read that yields a site URL, whichever field carries it: exactly one event per request', async () => {
    const siteUrl = `https://read-${randomUUID().slice(0, 8)}.example/pay`;
    const withSites = await statement(submitter.key, { iss: submitter.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() }, evidence: { sites: [siteUrl] } });
    const submitted = await app.gql(`mutation($jws: String!) { submitStatement(jws: $jws) { indicator { id } statement { jws } } }`, { jws: withSites }, submitter.key);
    expect(submitted.errors).toBeUndefined();
    const id = submitted.data!.submitStatement.indicator.id;
    const bare = await statement(submitter.key, { iss: submitter.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() }, evidence: { reference: 'no sites' } });
    const bareId = (await app.gql(SUBMIT, { jws: bare }, submitter.key)).data!.submitStatement.indicator.id;
    const [{ fingerprint }] = (await app.gql(READ, { id }, coordinator.key)).data!.indicator.sites;

    const reads = async () =>
      superuserQuery<{ actor: string; sites: string[] }>(
        app.db,
        `SELECT actor_principal_id AS actor, (canonical::jsonb -> 'data' -> 'sites') AS sites FROM audit_event WHERE action = 'site.url.read' ORDER BY idx`,
      );
    const cases: { name: string; query: string; vars: Record<string, unknown>; key: TestKey; principal: string; events: number }[] = [
      { name: 'sites { url }', query: 'query($id: ID!) { indicator(id: $id) { sites { url } } }', vars: { id }, key: coordinator.key, principal: coordinator.principalId, events: 1 },
      { name: 'statements { jws }', query: 'query($id: ID!) { indicator(id: $id) { statements { jws } } }', vars: { id }, key: coordinator.key, principal: coordinator.principalId, events: 1 },
      {
        name: 'both, twice, through aliases',
        query: 'query($id: ID!) { a: indicator(id: $id) { sites { url } statements { jws } } b: indicator(id: $id) { statements { jws } sites { url } } }',
        vars: { id },
        key: coordinator.key,
        principal: coordinator.principalId,
        events: 1,
      },
      { name: 'the submitter’s colleague reading its own member’s JWS', query: 'query($id: ID!) { indicator(id: $id) { statements { jws } } }', vars: { id }, key: colleague.key, principal: colleague.principalId, events: 1 },
      { name: 'a JWS that names no site', query: 'query($id: ID!) { indicator(id: $id) { statements { jws } } }', vars: { id: bareId }, key: coordinator.key, principal: coordinator.principalId, events: 0 },
      { name: 'the fingerprint only', query: 'query($id: ID!) { indicator(id: $id) { sites { fingerprint } statements { sha256 } } }', vars: { id }, key: coordinator.key, principal: coordinator.principalId, events: 0 },
      { name: 'another member (no JWS, no URL)', query: 'query($id: ID!) { indicator(id: $id) { sites { url } statements { jws } } }', vars: { id }, key: other.key, principal: other.principalId, events: 0 },
    ];
    for (const c of cases) {
      const before = await reads();
      const res = await app.gql(c.query, c.vars, c.key);
      expect(res.errors).toBeUndefined();
      const added = (await reads()).slice(before.length);
      expect({ case: c.name, events: added.length }).toEqual({ case: c.name, events: c.events });
      if (c.events > 0) expect(added[0]).toEqual({ actor: c.principal, sites: [fingerprint] });
      // Whatever yields the URL is audited; nothing else does.
      const text = JSON.stringify(res.data);
      const inJws = [...text.matchAll(/"jws":"([^"]+)"/g)].some((m) => Buffer.from(m[1].split('.')[1], 'base64url').toString('utf8').includes(siteUrl));
      expect({ case: c.name, carriesUrl: text.includes(siteUrl) || inJws }).toEqual({ case: c.name, carriesUrl: c.events > 0 });
    }
    // The submitter's own answer carried the JWS too: that read was audited as well.
    const all = await reads();
    expect(all.filter((r) => r.actor === submitter.principalId && r.sites.includes(fingerprint))).toHaveLength(1);
  });

  it('hides a restricted statement inside an indicator another member may see', async () => {
    const value = nextAddress();
    const indicator = { kind: 'WALLET_ADDRESS', network: 'ethereum', value };
    const open = await statement(submitter.key, { iss: submitter.principalId, indicator, tlp: 'GREEN' });
    expect((await app.gql(SUBMIT, { jws: open }, submitter.key)).errors).toBeUndefined();
    const contributor = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const red = await statement(contributor.key, { iss: contributor.principalId, indicator, tlp: 'RED' });
    const res = await app.gql(SUBMIT, { jws: red }, contributor.key);
    const id = res.data!.submitStatement.indicator.id;
    const asOther = await app.gql(READ, { id }, other.key);
    expect(asOther.data!.indicator.statements.map((s: { tlp: string }) => s.tlp)).toEqual(['GREEN']);
    const asCoordinator = await app.gql(READ, { id }, coordinator.key);
    expect(asCoordinator.data!.indicator.statements.map((s: { tlp: string }) => s.tlp)).toEqual(['GREEN', 'RED']);
  });

  it('derives count, confidence, category, first/last seen and TLP only from the statements a viewer may see', async () => {
    const indicator = { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() };
    const open = await statement(submitter.key, { iss: submitter.principalId, indicator, tlp: 'GREEN', confidence: 40, category: 'OPEN_CAT' });
    expect((await app.gql(SUBMIT, { jws: open }, submitter.key)).errors).toBeUndefined();
    const secretive = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const red = await statement(secretive.key, { iss: secretive.principalId, indicator, tlp: 'RED', confidence: 95, category: 'SECRET_CAT' });
    const res = await app.gql(SUBMIT, { jws: red }, secretive.key);
    const id = res.data!.submitStatement.indicator.id;
    const q = `query($id: ID!) { indicator(id: $id) { attestationCount confidence category tlp firstSeenAt lastSeenAt } }`;
    const asOther = (await app.gql(q, { id }, other.key)).data!.indicator;
    expect(asOther).toMatchObject({ attestationCount: 1, confidence: 40, category: 'OPEN_CAT', tlp: 'GREEN' });
    expect(asOther.lastSeenAt).toBe(asOther.firstSeenAt);
    const asCoordinator = (await app.gql(q, { id }, coordinator.key)).data!.indicator;
    // 1 − (1 − 0.4)(1 − 0.95) = 0.97
    expect(asCoordinator).toMatchObject({ attestationCount: 2, confidence: 97, tlp: 'GREEN' });
    expect(asCoordinator.lastSeenAt > asCoordinator.firstSeenAt).toBe(true);
  });
});
