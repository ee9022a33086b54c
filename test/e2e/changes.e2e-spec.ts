import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };
const CHANGES = `query($after: String, $first: Int) {
  changes(after: $after, first: $first) { edges { cursor node { auditIndex change status indicatorId indicator { id status } } } pageInfo { hasNextPage endCursor } }
}`;

describe('change feed (SPEC 7 changes)', () => {
  let app: TestApp;
  let coordinator: Party;
  let outsider: Party;
  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    outsider = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function all(key: TestKey, after?: string) {
    const out: { change: string; status: string; indicatorId: string; auditIndex: number }[] = [];
    let cursor = after ?? null;
    for (;;) {
      const res = await app.gql(CHANGES, { after: cursor, first: 2 }, key);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      out.push(...res.data!.changes.edges.map((e: { node: (typeof out)[number] }) => e.node));
      if (!res.data!.changes.pageInfo.hasNextPage) return { out, cursor: res.data!.changes.pageInfo.endCursor ?? cursor };
      cursor = res.data!.changes.pageInfo.endCursor;
    }
  }

  it('lists creation, then a revocation, in commit order; a reader that comes back later still learns the retraction', async () => {
    const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() } }) }, coordinator.key);
    const id = res.data!.submitStatement.indicator.id;
    const { out: first, cursor } = await all(outsider.key);
    expect(first.filter((c) => c.indicatorId === id).map((c) => [c.change, c.status])).toEqual([['CREATED', 'ACTIVE']]);
    const revoked = await app.gql(`mutation($id: ID!) { revokeIndicator(id: $id, reason: "wrong wallet") { id } }`, { id }, coordinator.key);
    expect(revoked.errors).toBeUndefined();
    const { out: later } = await all(outsider.key, cursor!);
    expect(later.map((c) => [c.indicatorId, c.change, c.status])).toEqual([[id, 'STATUS', 'REVOKED']]);
    const { out: everything } = await all(outsider.key);
    const indexes = everything.map((c) => c.auditIndex);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
  });

  it('never shows an outsider a change of a RED indicator it may not see', async () => {
    const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, tlp: 'RED' }) }, coordinator.key);
    const id = res.data!.submitStatement.indicator.id;
    const { out } = await all(outsider.key);
    expect(out.map((c) => c.indicatorId)).not.toContain(id);
    const { out: asCoordinator } = await all(coordinator.key);
    expect(asCoordinator.map((c) => c.indicatorId)).toContain(id);
  });
});
