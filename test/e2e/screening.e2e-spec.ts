import { createHash } from 'node:crypto';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const SCREEN = `query($input: ScreenInput!) {
  screen(input: $input) { input kind network normalized fingerprint valid error match matchedVia matchedValue pending disputed indicator { id status } }
}`;
const BATCH = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { input valid error match matchedVia indicator { id } } }`;
const PREFIX = `query($p: String!) { screenByPrefix(prefix: $p) { fingerprint status } }`;

describe('screening (SPEC 5)', () => {
  let app: TestApp;
  let coordinator: Party; // CONTRIBUTOR + CURATOR of a coordinator member
  let exchange: Party; // CONTRIBUTOR + SCREENER of an exchange
  let outsider: Party; // SCREENER of a card processor
  const listedAddress = nextAddress();
  const pendingAddress = nextAddress();
  const redAddress = nextAddress();
  const ids: Record<string, string> = {};

  async function submit(by: Party, overrides: Record<string, unknown>): Promise<string> {
    const res = await app.gql(SUBMIT, { jws: await statement(by.key, { iss: by.principalId, ...overrides }) }, by.key);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.submitStatement.indicator.id;
  }

  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR', 'SCREENER']);
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    outsider = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    ids.wallet = await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listedAddress } });
    ids.domain = await submit(coordinator, { indicator: { kind: 'DOMAIN', value: 'pay-abuse.example.com' } });
    ids.merchant = await submit(coordinator, { indicator: { kind: 'MERCHANT_ID', value: { acquirer: 'Acq One', mid: 'M-77' } } });
    ids.pending = await submit(exchange, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: pendingAddress } });
    ids.red = await submit(coordinator, { tlp: 'RED', indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: redAddress } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('matches a listed wallet exactly, and explains the match', async () => {
    const res = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listedAddress.toUpperCase().replace('0X', '0x') } }, outsider.key);
    expect(res.data!.screen).toMatchObject({
      valid: true,
      match: true,
      matchedVia: 'EXACT',
      normalized: listedAddress.toLowerCase(),
      network: 'ethereum',
      pending: false,
      disputed: false,
      indicator: { id: ids.wallet, status: 'ACTIVE' },
    });
  });

  it('matches the same address given for another EVM chain as EVM_ADDRESS', async () => {
    const res = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', network: 'polygon', value: listedAddress } }, outsider.key);
    expect(res.data!.screen).toMatchObject({ match: true, matchedVia: 'EVM_ADDRESS', network: 'ethereum', indicator: { id: ids.wallet } });
  });

  it('matches a Monero integrated address to its listed standard address (STANDARD_ADDRESS), and not the other way round', async () => {
    // monero-docs' example standard address and an integrated address of it (payment id 8a125052fe6f3877)
    const standard = '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge';
    const integrated = '4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK';
    const id = await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'monero', value: standard } });
    const res = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: integrated } }, outsider.key);
    expect(res.data!.screen).toMatchObject({ match: true, matchedVia: 'STANDARD_ADDRESS', matchedValue: standard, normalized: integrated, network: 'monero', indicator: { id } });
    // A listed integrated address names one payment, not the whole wallet: its standard address does not match it.
    const other = '4GYjoMG9Y2BBUMhuykdK3gQ98XDqDTYW1hNLaXNvjpsJaSbNtdXh1sKMsdVgqkaihChAzEy29zEDPMR3NHQvGoZCVSs1ZojwrDCGS5rUuo';
    await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'monero', value: other } });
    const base = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: '46r4nYSevkfBUMhuykdK3gQ98XDqDTYW1hNLaXNvjpsJaSbNtdXh1sKMsdVgqkaihChAzEy29zEDPMR3NHQvGoZCLGwTerK' } }, outsider.key);
    expect(base.data!.screen).toMatchObject({ valid: true, match: false });
  });

  it('matches by fingerprint alone (FINGERPRINT), computed by the client as SPEC 3 says', async () => {
    const fp = createHash('sha256').update(`WALLET_ADDRESS|ethereum|${listedAddress.toLowerCase()}`).digest('hex');
    const res = await app.gql(SCREEN, { input: { fingerprint: fp.toUpperCase() } }, outsider.key);
    expect(res.data!.screen).toMatchObject({ input: fp.toUpperCase(), fingerprint: fp, match: true, matchedVia: 'FINGERPRINT', indicator: { id: ids.wallet } });
  });

  it('matches a sub-domain of a listed domain (PARENT_DOMAIN) and a URL on it (URL_DOMAIN), naming the listed key', async () => {
    const sub = await app.gql(SCREEN, { input: { kind: 'DOMAIN', value: 'checkout.PAY-ABUSE.example.com.' } }, outsider.key);
    expect(sub.data!.screen).toMatchObject({ match: true, matchedVia: 'PARENT_DOMAIN', matchedValue: 'pay-abuse.example.com', normalized: 'checkout.pay-abuse.example.com' });
    const url = await app.gql(SCREEN, { input: { kind: 'URL', value: 'https://checkout.pay-abuse.example.com/buy?id=7' } }, outsider.key);
    expect(url.data!.screen).toMatchObject({ match: true, matchedVia: 'URL_DOMAIN', matchedValue: 'pay-abuse.example.com', indicator: { id: ids.domain } });
    const unrelated = await app.gql(SCREEN, { input: { kind: 'DOMAIN', value: 'example.com' } }, outsider.key);
    expect(unrelated.data!.screen).toMatchObject({ valid: true, match: false, matchedVia: null, indicator: null });
  });

  it('matches a listed indicator screened defanged or with a network ticker, and shows the canonical form (issue 18.7)', async () => {
    const urlId = await submit(coordinator, { indicator: { kind: 'URL', value: 'https://pay-abuse.example.org/checkout?id=1' } });
    const FULL = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { input kind network normalized fingerprint valid error match matchedVia matchedValue indicator { id } } }`;
    const res = await app.gql(
      FULL,
      {
        inputs: [
          { kind: 'DOMAIN', value: 'pay-abuse[.]example[.]com' },
          { kind: 'DOMAIN', value: 'Checkout(.)PAY-ABUSE{.}example[dot]com' },
          { kind: 'URL', value: 'hxxps[://]pay-abuse[.]example[.]org/checkout?id=1#top' },
          { kind: 'URL', value: 'hXXp://checkout[.]pay-abuse[.]example[.]com/buy' },
          // Only scheme and host are refanged: "[.]" in the query is the page's own, so this is another page.
          { kind: 'URL', value: 'hxxps://pay-abuse[.]example[.]org/checkout?id=[.]' },
          { kind: 'WALLET_ADDRESS', network: 'ETH', value: listedAddress },
          { kind: 'WALLET_ADDRESS', network: 'Ethereum', value: listedAddress },
        ],
      },
      outsider.key,
    );
    expect(res.errors).toBeUndefined();
    const [domain, sub, url, urlDomain, other, eth, named] = res.data!.screenBatch;
    expect(domain).toMatchObject({ input: 'pay-abuse[.]example[.]com', valid: true, match: true, matchedVia: 'EXACT', normalized: 'pay-abuse.example.com', indicator: { id: ids.domain } });
    expect(domain.fingerprint).toBe(createHash('sha256').update('DOMAIN||pay-abuse.example.com').digest('hex'));
    expect(sub).toMatchObject({ match: true, matchedVia: 'PARENT_DOMAIN', matchedValue: 'pay-abuse.example.com', normalized: 'checkout.pay-abuse.example.com', indicator: { id: ids.domain } });
    expect(url).toMatchObject({ match: true, matchedVia: 'EXACT', normalized: 'https://pay-abuse.example.org/checkout?id=1', indicator: { id: urlId } });
    expect(urlDomain).toMatchObject({ match: true, matchedVia: 'URL_DOMAIN', normalized: 'http://checkout.pay-abuse.example.com/buy', indicator: { id: ids.domain } });
    expect(other).toMatchObject({ valid: true, match: false, normalized: 'https://pay-abuse.example.org/checkout?id=[.]', indicator: null });
    // `eth` is ethereum itself, not another EVM chain: EXACT, not EVM_ADDRESS.
    expect(eth).toMatchObject({ valid: true, match: true, matchedVia: 'EXACT', network: 'ethereum', normalized: listedAddress.toLowerCase(), indicator: { id: ids.wallet } });
    expect(named).toMatchObject({ match: true, matchedVia: 'EXACT', network: 'ethereum', indicator: { id: ids.wallet } });
    const unknown = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', network: 'doge', value: listedAddress } }, outsider.key);
    expect(unknown.data!.screen).toMatchObject({ valid: false, network: 'doge', error: expect.stringMatching(/^network: .*btc for bitcoin.*\(UNSUPPORTED_NETWORK\)$/) });
  });

  it('a statement with network "btc" lands on the same indicator as one with "bitcoin", which screening and the indicators filter name bitcoin (issue 18.7)', async () => {
    const address = '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu';
    const byTicker = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'btc', value: address } }) }, coordinator.key);
    expect(byTicker.errors).toBeUndefined();
    const byName = await app.gql(SUBMIT, { jws: await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: address } }) }, exchange.key);
    expect(byName.errors).toBeUndefined();
    const indicator = byTicker.data!.submitStatement.indicator;
    expect(indicator).toMatchObject({ kind: 'WALLET_ADDRESS', network: 'bitcoin', value: address, fingerprint: createHash('sha256').update(`WALLET_ADDRESS|bitcoin|${address}`).digest('hex') });
    expect(byName.data!.submitStatement.indicator.id).toBe(indicator.id);
    const rows = await superuserQuery<{ network: string }>(app.db, 'SELECT network FROM indicator WHERE value = $1', [address]);
    expect(rows).toEqual([{ network: 'bitcoin' }]);

    for (const network of ['BTC', 'bitcoin', undefined]) {
      const res = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', network, value: address } }, outsider.key);
      expect(res.data!.screen).toMatchObject({ valid: true, match: true, matchedVia: 'EXACT', network: 'bitcoin', normalized: address, indicator: { id: indicator.id } });
    }
    const listed = await app.gql('query($f: IndicatorFilter) { indicators(filter: $f, first: 50) { edges { node { id network } } } }', { f: { network: 'Btc' } }, outsider.key);
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.indicators.edges.map((e: { node: { id: string; network: string } }) => e.node)).toEqual([{ id: indicator.id, network: 'bitcoin' }]);
  });

  it('names the nearest listed key when several match one input: small, grouped and large calls, duplicates included', async () => {
    const near = await submit(coordinator, { indicator: { kind: 'DOMAIN', value: 'shop.rank-test.example.net' } });
    const far = await submit(coordinator, { indicator: { kind: 'DOMAIN', value: 'rank-test.example.net' } });
    // The first case's listed parent is also a farther parent of the later ones: in one call it is
    // looked up once, and found before their nearer key.
    const cases = [
      { input: { kind: 'DOMAIN', value: 'x.rank-test.example.net' }, expected: { match: true, matchedVia: 'PARENT_DOMAIN', matchedValue: 'rank-test.example.net', indicator: { id: far } } },
      { input: { kind: 'DOMAIN', value: 'shop.rank-test.example.net' }, expected: { match: true, matchedVia: 'EXACT', matchedValue: null, indicator: { id: near } } },
      { input: { kind: 'DOMAIN', value: 'a.b.shop.rank-test.example.net' }, expected: { match: true, matchedVia: 'PARENT_DOMAIN', matchedValue: 'shop.rank-test.example.net', indicator: { id: near } } },
      { input: { kind: 'URL', value: 'https://a.shop.rank-test.example.net/pay' }, expected: { match: true, matchedVia: 'URL_DOMAIN', matchedValue: 'shop.rank-test.example.net', indicator: { id: near } } },
    ];
    const unlisted = { match: false, matchedVia: null, matchedValue: null, indicator: null };
    const query = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match matchedVia matchedValue indicator { id } } }`;
    const screenBatch = async (inputs: Record<string, string>[]) => {
      const res = await app.gql(query, { inputs }, outsider.key);
      expect(res.errors).toBeUndefined();
      return res.data!.screenBatch as Record<string, unknown>[];
    };
    const wallet = () => ({ kind: 'WALLET_ADDRESS', value: nextAddress() });

    // One small call with every case.
    expect(await screenBatch(cases.map((c) => c.input))).toEqual(cases.map((c) => c.expected));

    // Small calls at once, grouped into shared statements: each gets its own answers.
    const calls = [...cases.map((c) => [c.input, wallet()]), ...cases.map((c) => [wallet(), c.input, c.input])];
    const answers = await Promise.all(calls.map((inputs) => screenBatch(inputs)));
    answers.forEach((answer, i) => expect(answer).toEqual(calls[i].map((input) => cases.find((c) => c.input === input)?.expected ?? unlisted)));

    // A large call (looked up in parts of 250): each case three times, twice in the first part and
    // once in the second.
    const inputs: Record<string, string>[] = Array.from({ length: 300 }, wallet);
    const places = cases.map((_, i) => [7 + 50 * i, 240 + i, 295 + i]);
    cases.forEach((c, i) => places[i].forEach((at) => (inputs[at] = c.input)));
    const results = await screenBatch(inputs);
    cases.forEach((c, i) => places[i].forEach((at) => expect(results[at]).toEqual(c.expected)));
    expect(results.filter((r) => r.match)).toHaveLength(3 * cases.length);
  });

  it('matches a merchant id given as ACQUIRER:MID', async () => {
    const res = await app.gql(SCREEN, { input: { kind: 'MERCHANT_ID', value: 'acq one:m-77' } }, outsider.key);
    expect(res.data!.screen).toMatchObject({ match: true, matchedVia: 'EXACT', normalized: 'ACQ ONE:M-77' });
  });

  it('does not match a PENDING indicator for a screener; a curator sees it, flagged pending', async () => {
    const asScreener = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: pendingAddress } }, exchange.key);
    expect(asScreener.data!.screen).toMatchObject({ match: false, indicator: null });
    const asCurator = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: pendingAddress } }, coordinator.key);
    expect(asCurator.data!.screen).toMatchObject({ match: true, pending: true, indicator: { id: ids.pending, status: 'PENDING' } });
  });

  it('never matches a RED indicator for an outsider, by value, fingerprint or prefix; a coordinator matches it', async () => {
    const fp = createHash('sha256').update(`WALLET_ADDRESS|ethereum|${redAddress.toLowerCase()}`).digest('hex');
    const byValue = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: redAddress } }, outsider.key);
    const byFingerprint = await app.gql(SCREEN, { input: { fingerprint: fp } }, outsider.key);
    const unknown = await app.gql(SCREEN, { input: { fingerprint: 'ab'.repeat(32) } }, outsider.key);
    expect(byValue.data!.screen).toMatchObject({ match: false, indicator: null });
    // Exactly as for a fingerprint nobody listed.
    expect({ ...byFingerprint.data!.screen, input: null, fingerprint: null }).toEqual({ ...unknown.data!.screen, input: null, fingerprint: null });
    const bucket = await app.gql(PREFIX, { p: fp.slice(0, 6) }, outsider.key);
    expect(bucket.data!.screenByPrefix.map((m: { fingerprint: string }) => m.fingerprint)).not.toContain(fp);
    const asCoordinator = await app.gql(PREFIX, { p: fp.slice(0, 6) }, coordinator.key);
    expect(asCoordinator.data!.screenByPrefix).toContainEqual({ fingerprint: fp, status: 'ACTIVE' });
    const matched = await app.gql(SCREEN, { input: { fingerprint: fp } }, coordinator.key);
    expect(matched.data!.screen).toMatchObject({ match: true, indicator: { id: ids.red } });
  });

  it('applies the same rules to a large call (looked up apart from the grouped small calls): RED and PENDING for whoever may see them', async () => {
    // 300 inputs: more than a grouped call carries, so they take the other lookup.
    const special: Record<number, string> = { 3: listedAddress, 150: redAddress, 299: pendingAddress };
    const inputs = Array.from({ length: 300 }, (_, i) => ({ kind: 'WALLET_ADDRESS', value: special[i] ?? nextAddress() }));
    const query = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match pending indicator { id } } }`;
    const matches = async (key: TestKey) => {
      const res = await app.gql(query, { inputs }, key);
      expect(res.errors).toBeUndefined();
      const results = res.data!.screenBatch as { match: boolean; pending: boolean; indicator: { id: string } | null }[];
      return results.flatMap((r, i) => (r.match ? [[i, r.indicator!.id, r.pending]] : []));
    };
    expect(await matches(outsider.key)).toEqual([[3, ids.wallet, false]]);
    expect(await matches(exchange.key)).toEqual([[3, ids.wallet, false]]); // PENDING: its own submission, but not a curator
    expect(await matches(coordinator.key)).toEqual([
      [3, ids.wallet, false],
      [150, ids.red, false],
      [299, ids.pending, true],
    ]);
  });

  it('still matches a DISPUTED indicator, and says so', async () => {
    const address = nextAddress();
    const id = await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: address } });
    const dispute = await app.gql(`mutation($id: ID!) { disputeIndicator(id: $id, reason: "our customer's wallet") { id } }`, { id }, exchange.key);
    expect(dispute.errors).toBeUndefined();
    const res = await app.gql(SCREEN, { input: { kind: 'WALLET_ADDRESS', value: address } }, outsider.key);
    expect(res.data!.screen).toMatchObject({ match: true, disputed: true, indicator: { id, status: 'DISPUTED' } });
  });

  it('pads a bucket whose only real entry is DISPUTED with decoys that look the same in every field', async () => {
    const address = nextAddress();
    const id = await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: address } });
    expect((await app.gql(`mutation($id: ID!) { disputeIndicator(id: $id, reason: "ours") { id } }`, { id }, exchange.key)).errors).toBeUndefined();
    const fp = createHash('sha256').update(`WALLET_ADDRESS|ethereum|${address.toLowerCase()}`).digest('hex');
    const prefix = fp.slice(0, 8);
    const plain = (await app.gql(PREFIX, { p: prefix }, outsider.key)).data!.screenByPrefix;
    expect(plain).toEqual([{ fingerprint: fp, status: 'DISPUTED' }]);
    const padded = (await app.gql(`query($p: String!) { screenByPrefix(prefix: $p, padTo: 40) { fingerprint status __typename } }`, { p: prefix }, outsider.key)).data!
      .screenByPrefix as { fingerprint: string; status: string; __typename: string }[];
    expect(padded).toHaveLength(40);
    expect(padded).toContainEqual({ fingerprint: fp, status: 'DISPUTED', __typename: 'PrefixMatch' });
    // Every entry has the shape and the status of the real one: nothing tells them apart.
    for (const m of padded) expect(m).toEqual({ fingerprint: expect.stringMatching(new RegExp(`^${prefix}[0-9a-f]{56}$`)), status: 'DISPUTED', __typename: 'PrefixMatch' });
  });

  it('answers a 10,000-input batch in input order; invalid items carry their error and never fail the batch', async () => {
    const inputs = Array.from({ length: 10_000 }, (_, i) => {
      if (i % 1000 === 7) return { kind: 'WALLET_ADDRESS', value: listedAddress };
      if (i % 1000 === 13) return { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv' };
      if (i % 1000 === 17) return { value: 'no kind' };
      return { kind: 'WALLET_ADDRESS', value: nextAddress() };
    });
    const res = await app.gql(BATCH, { inputs }, outsider.key);
    expect(res.errors).toBeUndefined();
    const results = res.data!.screenBatch as { input: string; valid: boolean; error: string | null; match: boolean }[];
    expect(results).toHaveLength(10_000);
    results.forEach((r, i) => {
      expect(r.input).toBe(inputs[i].value);
      if (i % 1000 === 7) expect(r).toMatchObject({ valid: true, match: true });
      else if (i % 1000 === 13) expect(r).toMatchObject({ valid: false, match: false, error: expect.stringMatching(/^value: .*checksum.*\(BAD_CHECKSUM\)$/) });
      else if (i % 1000 === 17) expect(r).toMatchObject({ valid: false, error: expect.stringMatching(/^kind: required/) });
      else expect(r).toMatchObject({ valid: true, match: false });
    });
  });

  it('writes one audit event per call, with the count and the fingerprints asked (never the values)', async () => {
    const [before] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'screen'`);
    await app.gql(BATCH, { inputs: [{ kind: 'WALLET_ADDRESS', value: listedAddress }, { kind: 'DOMAIN', value: 'example.org' }] }, outsider.key);
    const rows = await superuserQuery<{ canonical: string; actor_principal_id: string }>(
      app.db,
      `SELECT canonical, actor_principal_id FROM audit_event WHERE action = 'screen' ORDER BY idx DESC LIMIT 1`,
    );
    const [after] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'screen'`);
    expect(after.n).toBe(before.n + 1);
    expect(rows[0].actor_principal_id).toBe(outsider.principalId);
    const data = JSON.parse(rows[0].canonical).data;
    expect(data).toMatchObject({ count: 2 });
    expect(data.fingerprints).toHaveLength(2);
    expect(rows[0].canonical).not.toContain(listedAddress.toLowerCase());
  });

  it('logs a large call (looked up in parts) as one event listing every fingerprint asked, in input order', async () => {
    // 1,003 inputs: more than a grouped call, cut into parts that are looked up side by side.
    const inputs = Array.from({ length: 1003 }, (_, i) =>
      i % 250 === 249 || i === 1002 ? { kind: 'WALLET_ADDRESS', value: listedAddress } : i === 500 ? { value: 'no kind' } : { kind: 'WALLET_ADDRESS', value: nextAddress() },
    );
    const res = await app.gql(
      `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { fingerprint match } }`,
      { inputs },
      outsider.key,
    );
    expect(res.errors).toBeUndefined();
    const results = res.data!.screenBatch as { fingerprint: string | null; match: boolean }[];
    expect(results.map((r, i) => [i, r.match])).toEqual(inputs.map((_, i) => [i, i % 250 === 249 || i === 1002]));
    const [row] = await superuserQuery<{ canonical: string }>(app.db, `SELECT canonical FROM audit_event WHERE action = 'screen' ORDER BY idx DESC LIMIT 1`);
    const data = JSON.parse(row.canonical).data as { count: number; fingerprints: (string | null)[] };
    expect(data.count).toBe(1003);
    expect(data.fingerprints).toEqual(results.map((r) => r.fingerprint));
    expect(data.fingerprints[500]).toBeNull();
  });

  it('refuses a malformed prefix, and batches over the cap, naming the field', async () => {
    const bad = await app.gql(PREFIX, { p: 'abc' }, outsider.key);
    expect(bad.errors?.[0]).toMatchObject({ message: 'prefix: must be 5 to 8 hexadecimal digits', extensions: { code: 'BAD_USER_INPUT' } });
    const tooMany = await app.gql(BATCH, { inputs: Array.from({ length: 10_001 }, () => ({ fingerprint: 'ab'.repeat(32) })) }, outsider.key);
    expect(tooMany.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.errors?.[0].message).toMatch(/^inputs: at most 10000/);
  });

  it('is for screeners and curators only', async () => {
    const contributorOnly = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    const res = await app.gql(SCREEN, { input: { fingerprint: 'ab'.repeat(32) } }, contributorOnly.key);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('pads a prefix bucket with decoys that share the prefix and can never be the client’s own fingerprint', async () => {
    const fp = createHash('sha256').update(`WALLET_ADDRESS|ethereum|${listedAddress.toLowerCase()}`).digest('hex');
    const prefix = fp.slice(0, 5);
    const plain = await app.gql(PREFIX, { p: prefix }, outsider.key);
    const padded = await app.gql(`query($p: String!) { screenByPrefix(prefix: $p, padTo: 50) { fingerprint status } }`, { p: prefix }, outsider.key);
    const list = padded.data!.screenByPrefix as { fingerprint: string; status: string }[];
    expect(list).toHaveLength(50);
    expect(list.every((m) => m.fingerprint.startsWith(prefix) && /^[0-9a-f]{64}$/.test(m.fingerprint) && m.status === 'ACTIVE')).toBe(true);
    expect(list.map((m) => m.fingerprint)).toEqual([...list.map((m) => m.fingerprint)].sort());
    for (const real of plain.data!.screenByPrefix) expect(list).toContainEqual(real);
    expect(list.map((m) => m.fingerprint)).toContain(fp);
    const tooMuch = await app.gql(`query { screenByPrefix(prefix: "abcde", padTo: 5000) { fingerprint } }`, {}, outsider.key);
    expect(tooMuch.errors?.[0].message).toBe('padTo: must be 1 to 1000');
  });
});
