import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = Awaited<ReturnType<typeof createMemberWithPrincipal>>;

const READ = `query($id: ID!) { indicator(id: $id) { status statements { status review { decision status note } } sightings { seen falsePositive actioned } } }`;
const NOTIFICATIONS = `{ notifications(first: 50) { kind message indicator { id } } }`;
const DISPUTE = `mutation($id: ID!, $r: String!) { disputeIndicator(id: $id, reason: $r) { id } }`;
const RESOLVE = `mutation($id: ID!, $u: Boolean!, $n: String) { resolveDispute(id: $id, upheld: $u, note: $n) { id status } }`;

/** Issue 18.3: contributors and disputants hear back; repeated reports count once. */
describe('members hear back about their submissions and disputes', () => {
  let app: TestApp;
  let coordinator: Party;
  let exchange: Party;
  let processor: Party;
  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'CONTRIBUTOR']);
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    processor = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['CONTRIBUTOR', 'SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function submit(party: Party, value: string): Promise<string> {
    const res = await app.gql(SUBMIT, { jws: await statement(party.key, { iss: party.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value }, tlp: 'GREEN' }) }, party.key);
    expect(res.errors).toBeUndefined();
    return res.data!.submitStatement.indicator.id;
  }
  const notifications = async (party: Party) => (await app.gql(NOTIFICATIONS, {}, party.key)).data!.notifications as { kind: string; message: string; indicator: { id: string } }[];

  it('a submitter sees the curator’s decision and note on its own statement; others do not', async () => {
    const id = await submit(exchange, nextAddress());
    const rejected = await app.gql(`mutation($id: ID!) { reviewIndicator(id: $id, decision: REJECT, note: "a payment processor's settlement wallet") { id } }`, { id }, coordinator.key);
    expect(rejected.errors).toBeUndefined();
    const own = (await app.gql(READ, { id }, exchange.key)).data!.indicator;
    expect(own.statements).toEqual([{ status: 'REJECTED', review: { decision: 'REJECT', status: 'REJECTED', note: "a payment processor's settlement wallet" } }]);
    const asCoordinator = (await app.gql(READ, { id }, coordinator.key)).data!.indicator;
    expect(asCoordinator.statements[0].review.note).toBe("a payment processor's settlement wallet");

    // An approved one says so; a statement nobody decided on has no review.
    const approvedId = await submit(exchange, nextAddress());
    await app.gql(`mutation($id: ID!) { reviewIndicator(id: $id, decision: APPROVE, note: "matches report 4411") { id } }`, { id: approvedId }, coordinator.key);
    expect((await app.gql(READ, { id: approvedId }, exchange.key)).data!.indicator.statements[0].review).toEqual({ decision: 'APPROVE', status: 'ACTIVE', note: 'matches report 4411' });
    // Another member sees the statement, not the curator's words to its submitter.
    expect((await app.gql(READ, { id: approvedId }, processor.key)).data!.indicator.statements[0].review).toBeNull();
    const undecided = await submit(exchange, nextAddress());
    expect((await app.gql(READ, { id: undecided }, exchange.key)).data!.indicator.statements[0].review).toBeNull();
  });

  it('a disputant is notified when its dispute is resolved, with the note only when the dispute is its own', async () => {
    const id = await submit(coordinator, nextAddress());
    const mine = (await app.gql(DISPUTE, { id, r: 'our customer' }, exchange.key)).data!.disputeIndicator.id;
    const theirs = (await app.gql(DISPUTE, { id, r: 'ours too' }, processor.key)).data!.disputeIndicator.id;
    expect(theirs).toBeDefined();
    const before = { exchange: (await notifications(exchange)).length, processor: (await notifications(processor)).length };
    const res = await app.gql(RESOLVE, { id: mine, u: true, n: 'confirmed with the exchange: a customer wallet' }, coordinator.key);
    expect(res.errors).toBeUndefined();
    const toExchange = (await notifications(exchange)).filter((n) => n.kind === 'DISPUTE_RESOLVED' && n.indicator.id === id);
    const toProcessor = (await notifications(processor)).filter((n) => n.kind === 'DISPUTE_RESOLVED' && n.indicator.id === id);
    expect(toExchange).toHaveLength(1);
    expect(toExchange[0].message).toMatch(/^your dispute of indicator [0-9a-f]{64} was upheld: confirmed with the exchange: a customer wallet$/);
    expect(toProcessor).toHaveLength(1);
    expect(toProcessor[0].message).toMatch(/^your dispute of indicator [0-9a-f]{64} was upheld: the indicator was revoked on review$/);
    expect(toProcessor[0].message).not.toContain('confirmed with the exchange');
    expect((await notifications(exchange)).length).toBeGreaterThan(before.exchange);

    // A rejected dispute is told too, with the curator's note.
    const other = await submit(coordinator, nextAddress());
    const d = (await app.gql(DISPUTE, { id: other, r: 'not ours?' }, exchange.key)).data!.disputeIndicator.id;
    expect((await app.gql(RESOLVE, { id: d, u: false, n: 'seen on a reported site on 2 Dec' }, coordinator.key)).errors).toBeUndefined();
    const told = (await notifications(exchange)).filter((n) => n.kind === 'DISPUTE_RESOLVED' && n.indicator.id === other);
    expect(told.map((n) => n.message)).toEqual([expect.stringMatching(/was rejected: seen on a reported site on 2 Dec$/)]);
    expect((await notifications(processor)).filter((n) => n.indicator.id === other)).toEqual([]);
  });

  it('counts a sighting once per member and kind, however often the member repeats it', async () => {
    const id = await submit(coordinator, nextAddress());
    for (let i = 0; i < 3; i++) {
      const res = await app.gql(`mutation($id: ID!, $n: String) { reportSighting(indicatorId: $id, kind: FALSE_POSITIVE, note: $n) { id } }`, { id, n: `again ${i}` }, exchange.key);
      expect(res.errors).toBeUndefined();
    }
    await app.gql(`mutation($id: ID!) { reportSighting(indicatorId: $id, kind: SEEN) { id } }`, { id }, exchange.key);
    await app.gql(`mutation($id: ID!) { reportSighting(indicatorId: $id, kind: FALSE_POSITIVE) { id } }`, { id }, processor.key);
    expect((await app.gql(READ, { id }, coordinator.key)).data!.indicator.sightings).toEqual({ seen: 1, falsePositive: 2, actioned: 0 });

    // The latest note per member and kind is kept and readable: a member its own, a coordinator everyone's.
    const REPORTS = `query($id: ID!) { indicator(id: $id) { sightingReports { kind note reportCount member { id } } } }`;
    const own = (await app.gql(REPORTS, { id }, exchange.key)).data!.indicator.sightingReports;
    expect(own).toEqual([
      { kind: 'SEEN', note: null, reportCount: 1, member: { id: exchange.memberId } },
      { kind: 'FALSE_POSITIVE', note: 'again 2', reportCount: 3, member: { id: exchange.memberId } },
    ]);
    expect((await app.gql(REPORTS, { id }, processor.key)).data!.indicator.sightingReports).toEqual([
      { kind: 'FALSE_POSITIVE', note: null, reportCount: 1, member: { id: processor.memberId } },
    ]);
    const all = (await app.gql(REPORTS, { id }, coordinator.key)).data!.indicator.sightingReports;
    expect(all).toHaveLength(3);
    expect(all).toEqual(expect.arrayContaining([...own, { kind: 'FALSE_POSITIVE', note: null, reportCount: 1, member: { id: processor.memberId } }]));
  });
});
