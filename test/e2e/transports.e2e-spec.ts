import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { superuserQuery } from '../support/database.js';
import { newKey, tokenFor } from '../support/keys.js';
import { directoryCounts } from '../support/refusals.js';
import { createMemberWithPrincipal, type GraphqlResponse, post, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';
import { metricsText } from '../support/metrics.js';

type Party = Awaited<ReturnType<typeof createMemberWithPrincipal>>;

interface WsOutcome {
  /** an `error` message's errors, or a `next` message's errors */
  errors?: { message: string; extensions?: { code?: string } }[];
  data?: unknown;
  /** the connection was closed instead (code, reason) */
  closed?: { code: number; reason: string };
  /** a subscription that started and was still running when we stopped listening */
  running?: boolean;
}

/**
 * One operation over graphql-ws, as a client library sends it: connection_init with the token,
 * then subscribe. Resolves with the first answer (an error message, a next message, or the
 * connection's close) or `running` when a subscription started and said nothing for `quietMs`.
 */
async function overWs(app: TestApp, token: string | undefined, payload: { query: string; variables?: Record<string, unknown> }, quietMs = 400): Promise<WsOutcome> {
  let closed: WsOutcome['closed'];
  const client = createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => (closed = { code: (e as { code: number }).code, reason: (e as { reason: string }).reason }) },
  });
  try {
    return await new Promise<WsOutcome>((resolve) => {
      const timer = setTimeout(() => resolve({ running: true }), quietMs);
      client.subscribe(payload, {
        next: (result) => {
          clearTimeout(timer);
          resolve({ data: result.data, errors: result.errors as WsOutcome['errors'] });
        },
        error: (err) => {
          clearTimeout(timer);
          if (Array.isArray(err)) resolve({ errors: err });
          else setTimeout(() => resolve({ closed: closed ?? { code: (err as { code?: number }).code ?? -1, reason: String((err as { reason?: string }).reason ?? err) } }), 20);
        },
        complete: () => undefined,
      });
    });
  } finally {
    await client.dispose();
  }
}

async function auditActions(app: TestApp, sinceIdx: number): Promise<string[]> {
  const rows = await superuserQuery<{ action: string }>(app.db, 'SELECT action FROM audit_event WHERE idx >= $1 ORDER BY idx', [sinceIdx]);
  return rows.map((r) => r.action);
}
async function auditSize(app: TestApp): Promise<number> {
  const [row] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM audit_event');
  return row.n;
}

/** The distinct `operation` labels of cordon_graphql_requests_total in GET /metrics. */
async function operationLabels(app: TestApp): Promise<Set<string>> {
  const text = await metricsText(app.url);
  return new Set([...text.matchAll(/^cordon_graphql_requests_total\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]));
}
async function requestCount(app: TestApp, operation: string, outcome: string): Promise<number> {
  const text = await metricsText(app.url);
  const line = text.split('\n').find((l) => l.startsWith('cordon_graphql_requests_total{') && l.includes(`operation="${operation}"`) && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

const SUGGESTION = /did you mean/i;

describe('every transport goes through the same checks (HTTP and graphql-ws)', () => {
  let app: TestApp;
  let screener: Party;
  beforeAll(async () => {
    app = await startTestApp();
    screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'CONTRIBUTOR']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
  /** Documents HTTP refuses before they run; graphql-ws must refuse them the same way. */
  /** (`http`: what HTTP answers instead: a subscription is refused there before validation, BAD_REQUEST.) */
  const REFUSED_DOCUMENTS: { name: string; query: string; code: string; message: RegExp; http?: true }[] = [
    { name: '40 aliases in a query', query: `{ ${aliases(40, 'me { id }')} }`, code: 'GRAPHQL_VALIDATION_FAILED', message: /aliases/i },
    { name: '40 aliases in a subscription', query: `subscription { indicatorChanged { ${aliases(40, 'change')} } }`, code: 'GRAPHQL_VALIDATION_FAILED', message: /aliases/i, http: true },
    {
      name: 'a query over the cost limit',
      query: '{ indicators(first: 1000) { edges { node { statements { issuer { keys { kid } } } } } } }',
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /cost/i,
    },
    {
      name: 'a subscription deeper than the depth limit',
      query: 'subscription { indicatorChanged { indicator { statements { issuer { member { principals { member { principals { id } } } } } } } } }',
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /depth/i,
      http: true,
    },
    { name: 'a 6,000-token document', query: `{ me { ${'id '.repeat(6000)} } }`, code: 'GRAPHQL_PARSE_FAILED', message: /tokens/i },
    { name: 'a misspelled subscription field', query: 'subscription { indicatorChangd { change } }', code: 'GRAPHQL_VALIDATION_FAILED', message: /indicatorChangd/, http: true },
    { name: 'a misspelled field in a query', query: '{ me { nam } }', code: 'GRAPHQL_VALIDATION_FAILED', message: /nam/ },
    { name: 'a wrong enum literal', query: '{ screen(input: { kind: WALLET_ADDRES, value: "x" }) { match } }', code: 'BAD_USER_INPUT', message: /WALLET_ADDRES/ },
    { name: 'a syntax error', query: 'subscription { indicatorChanged { change ', code: 'GRAPHQL_PARSE_FAILED', message: /Syntax Error/ },
  ];

  it.each(REFUSED_DOCUMENTS)('refuses $name over both transports, with the same code, no suggestion, nothing run or written', async ({ query, code, message, http: subscriptionOverHttp }) => {
    const before = await directoryCounts(app);
    const http = await app.gql(query, {}, screener.key);
    const ws = await overWs(app, await tokenFor(screener.key), { query });
    for (const [res, expected] of [
      [http, subscriptionOverHttp ? { code: 'BAD_REQUEST', message: /graphql-ws/ } : { code, message }],
      [ws, { code, message }],
    ] as [GraphqlResponse | WsOutcome, { code: string; message: RegExp }][]) {
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].extensions?.code).toBe(expected.code);
      expect(res.errors![0].message).toMatch(expected.message);
      expect(res.errors![0].message).not.toMatch(SUGGESTION);
      expect(res.data ?? null).toBeNull();
    }
    expect(http.status).toBe(400);
    // Refused documents write nothing (a refused query writes no audit event; nothing ran).
    expect(await directoryCounts(app)).toEqual(before);
  });

  it('over HTTP, no error message carries a suggestion (fields, arguments, enum values, types)', async () => {
    for (const query of [
      '{ me { nmae } }',
      '{ screen(input: { kind: WALLET_ADDRES, value: "x" }) { match } }',
      '{ screen(inptu: { kind: DOMAIN, value: "x" }) { match } }',
      'query($i: ScreenInpt!) { screen(input: $i) { match } }',
    ]) {
      const res = await app.gql(query, { i: {} }, screener.key);
      expect(res.errors?.length).toBeGreaterThan(0);
      for (const e of res.errors!) expect({ query, message: e.message }).toEqual({ query, message: expect.not.stringMatching(SUGGESTION) });
    }
    // Variables' enum values too.
    const res = await app.gql('query($i: ScreenInput!) { screen(input: $i) { match } }', { i: { kind: 'WALLET_ADDRES', value: 'x' } }, screener.key);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).not.toMatch(SUGGESTION);
  });

  it('runs queries and mutations only over HTTP: over graphql-ws they are refused with a clear error before anything runs', async () => {
    const exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const token = await tokenFor(exchange.key);
    const cases = [
      { query: '{ me { id } }', http: 'ok' },
      { query: 'mutation { createMember(input: { name: "over ws", kind: CARD_PROCESSOR }) { id } }', http: 'FORBIDDEN' },
      { query: 'mutation { reportSighting(indicatorId: "00000000-0000-4000-8000-000000000000", kind: SEEN) { id } }', http: 'NOT_FOUND' },
      { query: '{ screen(input: { kind: DOMAIN, value: "example.com" }) { match } }', http: 'ok' },
    ];
    for (const { query, http } of cases) {
      const start = await auditSize(app);
      const before = await directoryCounts(app);
      const ws = await overWs(app, token, { query });
      expect(ws.errors).toHaveLength(1);
      expect(ws.errors![0].extensions?.code).toBe('BAD_REQUEST');
      expect(ws.errors![0].message).toMatch(/subscriptions only.*POST \/graphql/);
      expect(ws.data ?? null).toBeNull();
      // Nothing ran: no member, no sighting, no screening event, no audit event of any kind.
      expect(await directoryCounts(app)).toEqual(before);
      expect(await auditActions(app, start)).toEqual([]);
      // Over HTTP the same operation runs, and its refusals are audited as ever.
      const res = await app.gql(query, {}, exchange.key);
      expect(res.errors?.[0]?.extensions?.code ?? 'ok').toBe(http);
      const written = await auditActions(app, start);
      if (http === 'FORBIDDEN') expect(written).toEqual(['access.denied']);
      if (http === 'NOT_FOUND') expect(written).toEqual(['mutation.refused']);
    }
  });

  it('a subscription runs over graphql-ws once authenticated, and an invalid token is refused and audited once', async () => {
    const ok = await overWs(app, await tokenFor(screener.key), { query: 'subscription { indicatorChanged { change } }' });
    expect(ok).toEqual({ running: true });
    const start = await auditSize(app);
    const stranger = await newKey();
    const refused = await overWs(app, await tokenFor(stranger), { query: 'subscription { indicatorChanged { change } }' });
    expect(refused.closed?.code).toBe(4403);
    expect(await auditActions(app, start)).toEqual(['auth.refused']);
    const none = await overWs(app, undefined, { query: 'subscription { indicatorChanged { change } }' });
    expect(none.closed?.code).toBe(4403);
  });

  it('an expired token cannot start a subscription on a connection it opened while valid', async () => {
    // A token that stays acceptable for about 2 more seconds (exp 58 s ago, within the 60 s clock
    // skew) opens the connection; the subscribe message comes after it is no longer acceptable.
    const token = await tokenFor(screener.key, { now: Math.floor(Date.now() / 1000) - 68, lifetimeSeconds: 10 });
    let closed: number | undefined;
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: { closed: (e) => (closed = (e as { code: number }).code) },
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(closed).toBeUndefined(); // connected
      await new Promise((r) => setTimeout(r, 2500));
      const errors = await new Promise<unknown>((resolve) => {
        setTimeout(() => resolve('running'), 1000);
        client.subscribe({ query: 'subscription { indicatorChanged { change } }' }, { next: () => resolve('next'), error: resolve, complete: () => resolve('complete') });
      });
      expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED', reason: expect.stringMatching(/^expired/) } })]);
    } finally {
      await client.dispose();
    }
  });

  it('counts graphql-ws operations in the metrics, under the same labels as HTTP', async () => {
    const before = await requestCount(app, 'indicatorChanged', 'ok');
    const refusedBefore = await requestCount(app, 'invalid', 'GRAPHQL_VALIDATION_FAILED');
    expect(await overWs(app, await tokenFor(screener.key), { query: 'subscription { indicatorChanged { change } }' })).toEqual({ running: true });
    await overWs(app, await tokenFor(screener.key), { query: `subscription { indicatorChanged { ${aliases(40, 'change')} } }` });
    expect(await requestCount(app, 'indicatorChanged', 'ok')).toBe(before + 1);
    // Authenticated, then refused as invalid: counted without a field label.
    expect(await requestCount(app, 'invalid', 'GRAPHQL_VALIDATION_FAILED')).toBe(refusedBefore + 1);
  });

  it('coerces a subscription’s variables as HTTP does: a bad value is BAD_USER_INPUT, never echoed, never an internal error', async () => {
    const token = await tokenFor(screener.key);
    const bad = await overWs(app, token, { query: 'subscription($x: Boolean!) { indicatorChanged { change @include(if: $x) } }', variables: { x: 'secret-value-0xabc' } });
    expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad)).not.toContain('secret-value-0xabc');
    const missing = await overWs(app, token, { query: 'subscription($x: Boolean!) { indicatorChanged { change @include(if: $x) } }' });
    expect(missing.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    // A variable in a directive on the root field: graphql-js's validation throws; answered as invalid, the socket kept.
    const rootDirective = await overWs(app, token, { query: 'subscription($x: Boolean!) { indicatorChanged @include(if: $x) { change } }', variables: { x: true } });
    expect(rootDirective.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const ok = await overWs(app, token, { query: 'subscription($x: Boolean!) { indicatorChanged { change @include(if: $x) } }', variables: { x: true } });
    expect(ok).toEqual({ running: true });
  });

  it('refuses a subscription sent over HTTP with BAD_REQUEST, before anything else, with or without a token', async () => {
    for (const query of ['subscription { indicatorChanged { change } }', 'subscription($x: Boolean!) { indicatorChanged @include(if: $x) { at } }']) {
      for (const token of [await tokenFor(screener.key), undefined]) {
        const start = await auditSize(app);
        const res = await post(app.url, { query, variables: { x: true } }, token);
        expect({ status: res.status, code: res.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
        expect(res.errors![0].message).toMatch(/graphql-ws/);
        expect(await auditActions(app, start)).toEqual([]);
      }
    }
  });

  it('runs every delivery of a subscription as a request of its own: the indicator as it is now, every URL read audited', async () => {
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'CONTRIBUTOR']);
    const contributor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    const site = `https://deliveries-${Date.now()}.example/pay`;
    const value = nextAddress();
    const received: { change: string; status: string; indicator: { status: string; attestationCount: number; sites: { url: string | null }[] } }[] = [];
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await tokenFor(coordinator.key)}` }, retryAttempts: 0, lazy: true });
    const done = client.subscribe(
      { query: 'subscription { indicatorChanged { change status indicator { value status attestationCount sites { url } } } }' },
      { next: (m) => received.push((m.data as { indicatorChanged: (typeof received)[number] }).indicatorChanged), error: () => undefined, complete: () => undefined },
    );
    const urlReads = async () => (await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'site.url.read' AND actor_principal_id = $1`, [coordinator.principalId]))[0].n;
    const mine = () => received.filter((r) => (r.indicator as unknown as { value: string }).value === value);
    const waitFor = async (n: number) => {
      for (let i = 0; i < 100 && mine().length < n; i++) await new Promise((r) => setTimeout(r, 50));
      expect(mine()).toHaveLength(n);
    };
    try {
      await new Promise((r) => setTimeout(r, 300));
      const submitted = await app.gql(SUBMIT, { jws: await statement(contributor.key, { iss: contributor.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value }, evidence: { sites: [site] } }) }, contributor.key);
      const id = submitted.data!.submitStatement.indicator.id;
      await waitFor(1);
      expect((await app.gql('mutation($id: ID!) { reviewIndicator(id: $id, decision: APPROVE) { id } }', { id }, coordinator.key)).errors).toBeUndefined();
      await waitFor(2);
      expect((await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, coordinator.key)).errors).toBeUndefined();
      await waitFor(3);
      expect(mine().map((r) => [r.change, r.status, r.indicator.status, r.indicator.attestationCount, r.indicator.sites[0]?.url])).toEqual([
        ['CREATED', 'PENDING', 'PENDING', 1, site],
        ['STATUS', 'ACTIVE', 'ACTIVE', 1, site],
        ['ATTESTED', 'ACTIVE', 'ACTIVE', 2, site],
      ]);
      // Three deliveries carried the URL: three audited reads.
      expect(await urlReads()).toBe(3);
    } finally {
      done();
      await client.dispose();
    }
  });

  it('keeps the metrics labels bounded under a flood of made-up field sets', async () => {
    const fields = ['me', 'members', 'auditCheckpoint', 'changes { edges { cursor } }', 'exclusions { id }', 'reviewQueue { edges { cursor } }', 'indicators { edges { cursor } }', '__typename'];
    const before = await operationLabels(app);
    const stranger = await newKey();
    for (let i = 1; i < 60; i++) {
      const picked = fields.filter((_, bit) => (i >> bit) & 1).map((f) => (f === 'me' ? 'me { id }' : f === 'members' ? 'members { id }' : f === 'auditCheckpoint' ? 'auditCheckpoint { treeSize }' : f));
      // Unauthenticated (a key nobody registered) and authenticated, each field set once.
      await app.gql(`{ ${picked.join(' ')} }`, {}, stranger);
      await app.gql(`{ ${picked.join(' ')} }`, {}, screener.key);
    }
    const added = [...(await operationLabels(app))].filter((l) => !before.has(l));
    // At most: unauthenticated, multiple, and the single root fields asked for (bounded by the schema).
    const allowed = new Set(['unauthenticated', 'multiple', 'invalid', 'me', 'members', 'auditCheckpoint', 'changes', 'exclusions', 'reviewQueue', 'indicators', '__typename']);
    expect(added.filter((l) => !allowed.has(l))).toEqual([]);
    expect([...(await operationLabels(app))].every((l) => !l.includes(','))).toBe(true);
  });
});

describe('graphql-ws has the same brakes as HTTP', () => {
  let app: TestApp;
  let screener: Party;
  beforeAll(async () => {
    app = await startTestApp({ CORDON_RATE_LIMIT: '3', CORDON_AUTH_FAILURE_LIMIT: '5' });
    screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('stops auditing refused connection_init tokens past CORDON_AUTH_FAILURE_LIMIT, closing with 4429', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the setup's requests are out of the rate window
    const start = await auditSize(app);
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const out = await overWs(app, `not-a-token-${i}`, { query: 'subscription { indicatorChanged { change } }' });
      codes.push(out.closed?.code ?? 0);
    }
    // The first five refusals are audited; the rest are counted, not written.
    expect(await auditActions(app, start)).toEqual(Array(5).fill('auth.refused'));
    expect(codes.slice(0, 5)).toEqual(Array(5).fill(4403));
    expect(codes.slice(5)).toEqual(Array(7).fill(4429));
    // HTTP from the same address is braked as well (one counter per address, whichever transport).
    const http = await app.gql('{ me { id } }', {}, 'not-a-token');
    expect(http.status).toBe(429);
    expect(await auditActions(app, start)).toEqual(Array(5).fill('auth.refused'));
  });

  it('counts every subscribe message against the principal’s rate limit', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const token = await tokenFor(screener.key);
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
    try {
      const outcomes = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<string>((resolve) => {
              const timer = setTimeout(() => resolve('running'), 500);
              client.subscribe(
                { query: 'subscription { indicatorChanged { change } }' },
                {
                  next: () => resolve('next'),
                  error: (e) => {
                    clearTimeout(timer);
                    resolve(Array.isArray(e) ? String(e[0]?.extensions?.code) : 'closed');
                  },
                  complete: () => undefined,
                },
              );
            }),
        ),
      );
      // connection_init counts as one request: two subscriptions start within the second, the rest are refused.
      expect(outcomes.filter((o) => o === 'running')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(4);
    } finally {
      await client.dispose();
    }
  });
});

describe('graphql-ws limits: message size and live subscriptions', () => {
  let app: TestApp;
  let screener: Party;
  beforeAll(async () => {
    app = await startTestApp({ CORDON_MAX_SUBSCRIPTIONS: '3', CORDON_MAX_BODY_BYTES: '65536' });
    screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('closes a connection whose message is over CORDON_MAX_BODY_BYTES, as HTTP answers 413, before any token is checked', async () => {
    const start = await auditSize(app);
    const big = 'x'.repeat(100_000);
    const http = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }', variables: { big } }) });
    expect(http.status).toBe(413);
    const ws = await overWs(app, big, { query: 'subscription { indicatorChanged { change } }' });
    expect(ws.closed?.code).toBe(1009);
    expect(await auditActions(app, start)).toEqual([]);
    // Under the limit, it still works.
    expect(await overWs(app, await tokenFor(screener.key), { query: 'subscription { indicatorChanged { change } }' })).toEqual({ running: true });
  });

  it('holds at most CORDON_MAX_SUBSCRIPTIONS live subscriptions per principal; completing one frees its place', async () => {
    const clients = Array.from({ length: 2 }, async () =>
      createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await tokenFor(screener.key)}` }, retryAttempts: 0, lazy: true }),
    );
    const [a, b] = await Promise.all(clients);
    const open = (client: ReturnType<typeof createClient>) => {
      let outcome = 'running';
      const stop = client.subscribe({ query: 'subscription { indicatorChanged { change } }' }, { next: () => undefined, error: (e) => (outcome = Array.isArray(e) ? String(e[0]?.extensions?.code) : 'closed'), complete: () => undefined });
      return { stop, outcome: () => outcome };
    };
    try {
      const subs = [open(a), open(a), open(b)];
      await new Promise((r) => setTimeout(r, 400));
      const fourth = open(b);
      await new Promise((r) => setTimeout(r, 400));
      expect([...subs, fourth].map((x) => x.outcome())).toEqual(['running', 'running', 'running', 'RATE_LIMITED']);
      subs[0].stop();
      await new Promise((r) => setTimeout(r, 300));
      const fifth = open(b);
      await new Promise((r) => setTimeout(r, 400));
      expect(fifth.outcome()).toBe('running');
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
