import { createHash, randomBytes } from 'node:crypto';
import { bulk } from '../support/bulk.js';
import { superuserQuery } from '../support/database.js';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const RESULT_FIELDS = `input kind network normalized fingerprint valid error match matchedVia matchedValue pending disputed
  indicator { id kind network value fingerprint status confidence category tlp attestationCount firstSeenAt lastSeenAt supportedUntil createdAt updatedAt version }`;
const BATCH = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { ${RESULT_FIELDS} } }`;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ndjson = (inputs: object[]) => inputs.map((i) => `${JSON.stringify(i)}\n`).join('');

describe('POST /v1/screen: bulk screening, streamed (issue 19)', () => {
  let app: TestApp;
  let coordinator: Party; // CONTRIBUTOR + CURATOR + SCREENER of a coordinator member
  let exchange: Party; // CONTRIBUTOR + SCREENER of an exchange
  let processor: Party; // SCREENER of a card processor
  let submitter: Party; // CONTRIBUTOR only: may not screen
  const listed = nextAddress();
  const pending = nextAddress();
  const red = nextAddress();
  const redShared = nextAddress();

  async function submit(by: Party, overrides: Record<string, unknown>): Promise<string> {
    const res = await app.gql(SUBMIT, { jws: await statement(by.key, { iss: by.principalId, ...overrides }) }, by.key);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.submitStatement.indicator.id;
  }
  const token = (p: Party) => tokenFor(p.key, { audience: app.config.audience });
  const screenEvents = async (call: string) =>
    superuserQuery<{ data: { count: number; fingerprints: (string | null)[]; part: number } }>(
      app.db,
      `SELECT (canonical::jsonb)->'data' AS data FROM audit_event WHERE action = 'screen' AND (canonical::jsonb)->'data'->>'call' = $1 ORDER BY idx`,
      [call],
    );

  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR', 'SCREENER']);
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    processor = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    submitter = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed } });
    await submit(coordinator, { indicator: { kind: 'DOMAIN', value: 'pay-abuse.example.com' } });
    await submit(coordinator, { indicator: { kind: 'MERCHANT_ID', value: { acquirer: 'Acq One', mid: 'M-77' } } });
    await submit(coordinator, { indicator: { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' } });
    await submit(exchange, { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: pending } }); // PENDING: curators only
    await submit(coordinator, { tlp: 'RED', indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: red } });
    await submit(coordinator, { tlp: 'RED', shareWith: [exchange.memberId], indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: redShared } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** A generated mix: listed, derived keys, invisible, unlisted, invalid, fingerprints, repeats. */
  function mix(): object[] {
    const values: object[] = [
      { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed.toUpperCase().replace('0X', '0x') },
      { kind: 'WALLET_ADDRESS', network: 'polygon', value: listed },
      { kind: 'WALLET_ADDRESS', network: 'eth', value: listed },
      { kind: 'DOMAIN', value: 'checkout.pay-abuse.example.com' },
      { kind: 'DOMAIN', value: 'pay-abuse[.]example[.]com' },
      { kind: 'URL', value: 'https://pay-abuse.example.com/buy?x=1' },
      { kind: 'URL', value: 'hxxps://shop.pay-abuse.example.com/' },
      { kind: 'MERCHANT_ID', value: '{"acquirer":"acq one","mid":"M-77"}' },
      { kind: 'WALLET_ADDRESS', network: 'btc', value: 'BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ' },
      { kind: 'WALLET_ADDRESS', network: 'ethereum', value: pending },
      { kind: 'WALLET_ADDRESS', network: 'ethereum', value: red },
      { kind: 'WALLET_ADDRESS', network: 'ethereum', value: redShared },
      { fingerprint: sha(`WALLET_ADDRESS|ethereum|${listed.toLowerCase()}`) },
      { fingerprint: sha(`WALLET_ADDRESS|ethereum|${red.toLowerCase()}`).toUpperCase() },
      { fingerprint: sha(`WALLET_ADDRESS|ethereum|${redShared.toLowerCase()}`) },
      { fingerprint: 'abc' },
      { fingerprint: sha('x'), kind: 'DOMAIN' },
      { kind: 'WALLET_ADDRESS', network: 'ethereum', value: '0x12' },
      { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx' },
      { kind: 'WALLET_ADDRESS', network: 'dogecoin', value: 'D8vFz4p1L37jdg47HXKtSHA5uYLYxbGgPD' },
      { kind: 'DOMAIN', value: 'not a domain' },
      { kind: 'DOMAIN' },
      { value: 'example.org' },
      { kind: 'URL', value: 'ftp://pay-abuse.example.com/' },
      { kind: 'DOMAIN', value: 'example.org' },
    ];
    for (let i = 0; i < 40; i++) values.push({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() });
    for (let i = 0; i < 20; i++) values.push({ fingerprint: randomBytes(32).toString('hex') });
    values.push(...values.slice(0, 12)); // repeats
    // shuffled, deterministically enough for a diff to be readable
    return values.map((v, i) => ({ v, k: sha(String(i)) })).sort((a, b) => (a.k < b.k ? -1 : 1)).map((x) => x.v);
  }

  it('answers exactly what screenBatch answers, line by line, for every viewer (NDJSON and CSV)', async () => {
    const inputs = mix();
    for (const viewer of [processor, exchange, coordinator]) {
      const graphql = await app.gql(BATCH, { inputs }, viewer.key);
      expect(graphql.errors).toBeUndefined();
      const expected = graphql.data!.screenBatch as Record<string, unknown>[];
      const answer = await bulk(app.url, ndjson(inputs), { token: await token(viewer) });
      expect(answer.status).toBe(200);
      const results = answer.lines.slice(0, -1);
      expect(answer.lines.at(-1)).toEqual({ summary: { call: answer.headers['cordon-call-id'], lines: inputs.length, results: inputs.length, matches: expected.filter((r) => r.match).length } });
      expect(results.map((r) => r.line)).toEqual(inputs.map((_, i) => i + 1));
      expect(results.map(({ line: _, ...r }) => r)).toEqual(expected);

      const header = 'Network,kind,VALUE,fingerprint';
      const csvEscape = (s: unknown) => (s == null ? '' : /[",\n]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s));
      const rows = inputs.map((i: any) => [i.network, i.kind, i.value, i.fingerprint].map(csvEscape).join(','));
      const csv = await bulk(app.url, `${header}\n${rows.join('\r\n')}\n`, { token: await token(viewer), type: 'text/csv' });
      expect(csv.status).toBe(200);
      expect(csv.lines.slice(0, -1).map(({ line: _, ...r }) => r)).toEqual(expected);
    }
    // The mix exercises what it should (for the exchange: the RED statement shared with it matches).
    const seen = (await bulk(app.url, ndjson(inputs), { token: await token(exchange) })).lines;
    const vias = new Set(seen.filter((r) => r.match).map((r) => r.matchedVia));
    for (const via of ['EXACT', 'EVM_ADDRESS', 'PARENT_DOMAIN', 'URL_DOMAIN', 'FINGERPRINT']) expect(vias).toContain(via);
    expect(seen.filter((r) => r.valid === false).length).toBeGreaterThan(5);
    expect(seen.some((r) => r.match && r.normalized === redShared.toLowerCase())).toBe(true);
    expect(seen.some((r) => r.match && r.normalized === red.toLowerCase())).toBe(false);
  }, 60_000);

  it('one audit event per 10,000 lines, listing every fingerprint asked, in order', async () => {
    const inputs = Array.from({ length: 25_000 }, (_, i) => (i % 2 ? { fingerprint: randomBytes(32).toString('hex') } : { kind: 'DOMAIN', value: `host-${i}.example.net` }));
    const before = await superuserQuery<{ n: string }>(app.db, `SELECT count(*) AS n FROM audit_event`);
    const answer = await bulk(app.url, ndjson(inputs), { token: await token(processor) });
    expect(answer.lines).toHaveLength(25_001);
    // Chunks are screened side by side: their events are committed in any order.
    const events = (await screenEvents(String(answer.headers['cordon-call-id']))).sort((a, b) => a.data.part - b.data.part);
    // 10,000 lines a part (fewer when the client paused: lines waiting are screened as they are).
    expect(events.map((e) => e.data.part)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.data.count <= 10_000 && e.data.count === e.data.fingerprints.length)).toBe(true);
    if (events.length === 3) expect(events.map((e) => e.data.count)).toEqual([10_000, 10_000, 5000]);
    expect(events.flatMap((e) => e.data.fingerprints)).toEqual(answer.lines.slice(0, -1).map((r) => r.fingerprint));
    const after = await superuserQuery<{ n: string }>(app.db, `SELECT count(*) AS n FROM audit_event`);
    expect(Number(after[0].n) - Number(before[0].n)).toBe(events.length);
  }, 60_000);

  it('refuses a bad line in its place, naming the field and the reason, and screens the rest', async () => {
    const body = [
      JSON.stringify({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed }),
      '{"kind": "DOMAIN", "value": ',
      '[1, 2]',
      '',
      JSON.stringify({ kind: 'DOMAIN', value: 'a.example', colour: 'red' }),
      JSON.stringify({ kind: 'DOMAIN', value: 42 }),
      JSON.stringify({ kind: 'DOMAIN', value: 'x'.repeat(9000) }),
      JSON.stringify({ kind: 'wallet_address', value: listed }),
      JSON.stringify({ fingerprint: sha(`WALLET_ADDRESS|ethereum|${listed.toLowerCase()}`) }),
    ].join('\n');
    const answer = await bulk(app.url, body, { token: await token(processor) });
    expect(answer.status).toBe(200);
    const byLine = new Map(answer.lines.slice(0, -1).map((r) => [r.line, r]));
    expect([...byLine.keys()]).toEqual([1, 2, 3, 5, 6, 7, 8, 9]); // line 4 is blank
    expect(byLine.get(1)).toMatchObject({ valid: true, match: true, matchedVia: 'EXACT' });
    expect(byLine.get(2)).toMatchObject({ valid: false, match: false, error: expect.stringMatching(/^line: not valid JSON/) });
    expect(byLine.get(3)).toMatchObject({ valid: false, error: expect.stringMatching(/^line: must be a JSON object/) });
    expect(byLine.get(5)).toMatchObject({ valid: false, input: 'a.example', error: expect.stringMatching(/^colour: unknown field/) });
    expect(byLine.get(6)).toMatchObject({ valid: false, error: 'value: must be a string or null' });
    expect(byLine.get(7)).toMatchObject({ valid: false, error: 'line: longer than 8192 bytes (CORDON_BULK_MAX_LINE_BYTES)' });
    expect(byLine.get(8)).toMatchObject({ valid: false, kind: null, error: expect.stringMatching(/^kind: /) }); // not a kind: not echoed as one
    expect(byLine.get(9)).toMatchObject({ valid: true, match: true, matchedVia: 'FINGERPRINT' });
    expect(answer.lines.at(-1).summary).toMatchObject({ lines: 8, results: 8, matches: 2 });
  });

  it('a line longer than the limit split across many reads is one error, and the next line is screened', async () => {
    async function* pieces() {
      yield `${JSON.stringify({ kind: 'DOMAIN', value: 'ok.example' })}\n{"kind":"DOMAIN","value":"`;
      for (let i = 0; i < 40; i++) yield 'y'.repeat(1000);
      yield `"}\n${JSON.stringify({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed })}\n`;
    }
    const answer = await bulk(app.url, pieces(), { token: await token(processor) });
    expect(answer.lines.map((r) => [r.line, r.valid, r.error ?? null, r.match])).toEqual([
      [1, true, null, false],
      [2, false, 'line: longer than 8192 bytes (CORDON_BULK_MAX_LINE_BYTES)', false],
      [3, true, null, true],
      [undefined, undefined, null, undefined],
    ]);
  });

  it('refuses the whole call before answering: no token, a bad token, a role that may not screen, an unknown format — changing nothing', async () => {
    const body = ndjson([{ kind: 'DOMAIN', value: 'example.org' }]);
    const count = async () => Number((await superuserQuery<{ n: string }>(app.db, `SELECT count(*) AS n FROM audit_event WHERE action = 'screen'`))[0].n);
    const screens = await count();
    const none = await bulk(app.url, body);
    expect(none.status).toBe(401);
    expect(none.lines[0].errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const bad = await bulk(app.url, body, { token: 'not.a.token' });
    expect(bad.status).toBe(401);
    const denied = await bulk(app.url, body, { token: await token(submitter) });
    expect(denied.status).toBe(403);
    expect(denied.lines[0].errors[0]).toMatchObject({ message: 'requires one of the roles SCREENER, CURATOR', extensions: { code: 'FORBIDDEN' } });
    const audited = await superuserQuery<{ data: unknown }>(app.db, `SELECT (canonical::jsonb)->'data' AS data FROM audit_event WHERE action = 'access.denied' AND actor_principal_id = $1`, [
      submitter.principalId,
    ]);
    expect(audited).toHaveLength(1);
    const json = await bulk(app.url, '{"query":"{ me { id } }"}', { token: await token(processor), type: 'application/json' });
    expect(json.status).toBe(415);
    expect(json.lines[0].errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'content-type' } });
    const csv = await bulk(app.url, 'address\n0x12\n', { token: await token(processor), type: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.lines).toEqual([{ error: { code: 'BAD_USER_INPUT', field: 'header', message: expect.stringMatching(/^header: the first row must name the columns/), results: 0 } }]);
    expect(await count()).toBe(screens);
  });

  /**
   * A 40,000-line call by `principal` whose standing changes mid-stream: the first 10,000 lines are
   * sent at once and answered, then `change` runs (after the first answer line arrives) before
   * the rest is sent.
   */
  async function changedMidStream(principal: Party, change: { query: string; variables: Record<string, unknown> }) {
    const line = () => `${JSON.stringify({ fingerprint: randomBytes(32).toString('hex') })}\n`;
    async function* lines() {
      yield Array.from({ length: 10_000 }, line).join('');
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 30_000; i++) yield line();
    }
    return bulk(app.url, lines(), {
      token: await token(principal),
      after: {
        lines: 1,
        run: async () => {
          const res = await app.gql(change.query, change.variables);
          expect(res.errors).toBeUndefined();
        },
      },
    });
  }

  it('a principal disabled mid-stream: the answer stops with UNAUTHENTICATED after what was already screened', async () => {
    const principal = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const answer = await changedMidStream(principal, {
      query: 'mutation($id: ID!) { disablePrincipal(id: $id, reason: "stolen laptop") { id } }',
      variables: { id: principal.principalId },
    });
    const last = answer.lines.at(-1);
    expect(last).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/disabled/), results: answer.lines.length - 1 } });
    // What was sent before the principal was disabled is answered; nothing after it.
    expect(answer.lines.length - 1).toBeGreaterThan(0);
    expect(answer.lines.length - 1).toBeLessThanOrEqual(10_000);
    // The rest of the refused body is drained: the kept-alive connection (the agent hands it to
    // the next request once the upload has ended) answers the next call.
    await new Promise((r) => setTimeout(r, 2000));
    const next = await bulk(app.url, ndjson([{ kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed }]), { token: await token(processor) });
    expect(next.lines.map((l) => l.match ?? l.summary?.matches)).toEqual([true, 1]);
  }, 60_000);

  it('roles changed mid-stream: the answer stops with FORBIDDEN once the principal may no longer screen', async () => {
    const principal = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'CONTRIBUTOR']);
    const answer = await changedMidStream(principal, {
      query: 'mutation($id: ID!, $r: [Role!]!) { setPrincipalRoles(id: $id, roles: $r) { id } }',
      variables: { id: principal.principalId, r: ['CONTRIBUTOR'] },
    });
    const last = answer.lines.at(-1);
    expect(last).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/^requires one of the roles SCREENER, CURATOR/), results: answer.lines.length - 1 } });
    expect(answer.lines.length - 1).toBeGreaterThan(0);
    expect(answer.lines.length - 1).toBeLessThanOrEqual(10_000);
    // Answered in order, nothing skipped before the refusal.
    expect(answer.lines.slice(0, -1).map((r) => r.line)).toEqual(Array.from({ length: answer.lines.length - 1 }, (_, i) => i + 1));
    const denied = await superuserQuery<{ n: string }>(app.db, `SELECT count(*) AS n FROM audit_event WHERE action = 'access.denied' AND actor_principal_id = $1`, [principal.principalId]);
    expect(Number(denied[0].n)).toBe(1);
  }, 60_000);

  it('over the rate limit: a new call is refused whole (429, Retry-After, retryAfterSeconds); a long call slows down instead of failing', async () => {
    const limited = await startTestApp({ CORDON_RATE_LIMIT: '5' });
    try {
      const principal = await createMemberWithPrincipal(limited, 'CRYPTO_EXCHANGE', ['SCREENER']);
      const signed = () => tokenFor(principal.key, { audience: limited.config.audience });
      const line = () => `${JSON.stringify({ fingerprint: randomBytes(32).toString('hex') })}\n`;
      // 100,000 lines: ten chunks, each after the first one more request against a limit of 5 a second.
      const long = await bulk(limited.url, Array.from({ length: 100_000 }, line).join(''), { token: await signed() });
      expect(long.status).toBe(200);
      expect(long.lines.at(-1)).toEqual({ summary: { call: long.headers['cordon-call-id'], lines: 100_000, results: 100_000, matches: 0 } });
      const calls = [];
      for (let i = 0; i < 10; i++) calls.push(await bulk(limited.url, line(), { token: await signed() }));
      const refused = calls.find((a) => a.status === 429);
      expect(refused).toBeDefined();
      expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused!.lines[0].errors[0]).toEqual({ message: expect.any(String), extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) } });
    } finally {
      await limited.stop();
    }
  }, 60_000);

  it('describes itself: GET /v1/openapi.json', async () => {
    const res = await fetch(`${app.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/v1/screen'].post.requestBody.content)).toEqual(['application/x-ndjson', 'text/csv']);
    expect(doc.components.schemas.ScreenResultLine.properties.matchedVia).toBeDefined();
  });
});
