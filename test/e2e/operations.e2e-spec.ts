import http from 'node:http';
import type net from 'node:net';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { spawnServer } from '../support/child-server.js';
import { createTestDatabase, superuserQuery } from '../support/database.js';
import { newKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, post, startTestApp, type TestApp } from '../support/server.js';
import { SUBMIT, statement } from '../support/statements.js';
import { MIGRATIONS } from '@app/database';
import { fetchMetrics, metricsText } from '../support/metrics.js';

const SCREEN = 'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match } }';
const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

/** One metric's value from the Prometheus text, by name and exact label set. */
function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('operations: readiness and metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('GET /ready answers 200 with the migrations applied, and 503 naming one that is missing', async () => {
    const ok = await fetch(`${app.url}/ready`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', migrations: MIGRATIONS.length, pid: expect.any(Number) });
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(10);
    const [row] = await superuserQuery<{ id: number; timestamp: string; name: string }>(app.db, `SELECT * FROM migrations WHERE name = 'AuditTree1764700000000'`);
    await superuserQuery(app.db, 'DELETE FROM migrations WHERE id = $1', [row.id]);
    try {
      const missing = await fetch(`${app.url}/ready`);
      expect(missing.status).toBe(503);
      expect(JSON.stringify(await missing.json())).toContain('migrations not applied: AuditTree1764700000000');
      expect((await fetch(`${app.url}/health`)).status).toBe(200); // alive, just not ready
    } finally {
      await superuserQuery(app.db, 'INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [row.id, row.timestamp, row.name]);
    }
  });

  it('GET /metrics counts requests per operation, screening keys and hits, statements by outcome, the audit log and the pool', async () => {
    const exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'CONTRIBUTOR']);
    const before = await metricsText(app.url);
    const listed = address(0xabc);
    const sub = await app.gql(SUBMIT, { jws: await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed } }) }, exchange.key);
    expect(sub.errors).toBeUndefined();
    const bad = await app.gql(SUBMIT, { jws: 'not.a.jws' }, exchange.key);
    expect(bad.errors?.[0].extensions?.code).toBeDefined();
    for (const v of [address(1), address(2), address(3)]) expect((await app.gql(SCREEN, { v }, exchange.key)).errors).toBeUndefined();
    const res = await fetchMetrics(app.url);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const grew = (name: string, labels = '') => (metric(text, name, labels) ?? 0) - (metric(before, name, labels) ?? 0);
    expect(grew('cordon_graphql_requests_total', 'operation="screen",outcome="ok"')).toBe(3);
    expect(grew('cordon_screening_keys_total')).toBe(3);
    expect(grew('cordon_statements_total', 'outcome="accepted"')).toBe(1);
    expect(text).toMatch(/cordon_graphql_request_duration_seconds_bucket\{le="0.005",operation="screen"\} \d+/);
    const [{ size }] = await superuserQuery<{ size: string }>(app.db, 'SELECT size FROM audit_head');
    expect(metric(text, 'cordon_audit_log_size')).toBe(Number(size));
    expect(metric(text, 'cordon_db_pool_connections', 'state="total"')).toBeGreaterThan(0);
    expect(text).toContain('cordon_process_resident_memory_bytes');
  });

  it('GET /metrics is for the operator’s scraper only: without CORDON_METRICS_TOKEN as bearer it answers nothing, and without the setting it is off', async () => {
    // Counters of every member's activity (statements accepted, keys the screening index let
    // through to SQL) must not reach a member, who shares the port.
    const member = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const refusals = [
      await fetch(`${app.url}/metrics`),
      await fetchMetrics(app.url, 'not-the-token-not-the-token-not-the-token'),
      await fetchMetrics(app.url, await tokenFor(member.key, { audience: app.config.audience })),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(401);
      const body = await res.text();
      expect(body).not.toContain('cordon_');
      expect(JSON.parse(body).errors[0]).toEqual({ message: expect.stringContaining('CORDON_METRICS_TOKEN'), extensions: { code: 'UNAUTHENTICATED' } });
    }
    expect((await fetchMetrics(app.url)).status).toBe(200);
    const off = await startTestApp({ CORDON_METRICS_TOKEN: '' });
    try {
      const res = await fetchMetrics(off.url);
      expect(res.status).toBe(403);
      expect(JSON.parse(await res.text()).errors[0]).toEqual({ message: expect.stringContaining('GET /metrics is off'), extensions: { code: 'FORBIDDEN' } });
    } finally {
      await off.stop();
    }
  });
});

describe('operations: abuse limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CORDON_RATE_LIMIT: '20', CORDON_AUTH_FAILURE_LIMIT: '5' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses a flooding principal with RATE_LIMITED, HTTP 429 and Retry-After, while another member’s screening still answers', async () => {
    const flooder = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const other = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    const floodToken = await tokenFor(flooder.key);
    const otherToken = await tokenFor(other.key);
    const send = (token: string, n: number) => fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: SCREEN, variables: { v: address(n) } }),
    });
    const [flood, others] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, (_, i) => send(floodToken, i))),
      (async () => {
        const answers = [];
        for (let i = 0; i < 5; i++) answers.push(await send(otherToken, 1000 + i));
        return answers;
      })(),
    ]);
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(30);
    expect(flood.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await limited[0].json()) as { errors: { message: string; extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(body.errors[0].message).toMatch(/^rate limit: at most 20 requests a second per principal \(CORDON_RATE_LIMIT\); retry after \d+ s$/);
    // A flood of mutations past the limit leaves no audit row each.
    const events = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM audit_event'))[0].n;
    const eventsBefore = await events();
    const mutations = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${floodToken}` },
          body: JSON.stringify({ query: 'mutation { reportSighting(indicatorId: "00000000-0000-4000-8000-000000000000", kind: SEEN) { id } }' }),
        }),
      ),
    );
    const refusedHere = mutations.filter((r) => r.status === 429).length;
    expect(refusedHere).toBeGreaterThan(0);
    // the ones let through were refused (no such indicator) and logged as mutation.refused; the 429s were not
    expect((await events()) - eventsBefore).toBe(mutations.length - refusedHere);
    for (const r of others) {
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: { screen: { match: boolean } } }).data.screen.match).toBe(false);
    }
  });

  it('answers refused sign-ins past the limit with 429 and stops writing an audit row for each; valid tokens still work', async () => {
    const count = async () => (await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'auth.refused'`))[0].n;
    const before = await count();
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(app.url, { query: '{ me { id } }' }, `garbage-${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    expect((await count()) - before).toBe(5);
    const me = await app.gql('{ me { id } }');
    expect(me.errors).toBeUndefined();
  });
});

describe('operations: several API processes on one machine (CORDON_WORKERS)', () => {
  it('serves from two worker processes sharing the port, and stops them all on SIGTERM', async () => {
    const db = await createTestDatabase();
    const admin = await newKey();
    const { url, child, exited } = await spawnServer({ DATABASE_URL: db.url, CORDON_WORKERS: '2', CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk) });
    try {
      const pids = new Set<number>();
      // Both workers start on their own time; keep asking (new connection each time) for up to 40 s.
      for (const deadline = Date.now() + 40_000; pids.size < 2 && Date.now() < deadline; ) {
        const res = await fetch(`${url}/ready`, { headers: { connection: 'close' } }).catch(() => undefined);
        if (res?.status === 200) pids.add(((await res.json()) as { pid: number }).pid);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(pids.size).toBe(2);
      expect(pids.has(child.pid!)).toBe(false); // the primary serves nothing itself
      const me = await post(url, { query: '{ me { roles } }' }, await tokenFor(admin));
      expect([...me.data!.me.roles].sort()).toEqual(['ADMIN', 'AUDITOR', 'CURATOR']);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await db.drop();
    }
  });
});

describe('operations: graceful shutdown', () => {
  it('on SIGTERM finishes the requests in flight, closes subscriptions, refuses new connections and exits 0', async () => {
    const db = await createTestDatabase();
    const admin = await newKey();
    const { url, port, child, exited } = await spawnServer({ DATABASE_URL: db.url, CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk) });
    try {
      // A subscriber …
      let closed = false;
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: async () => ({ authorization: `Bearer ${await tokenFor(admin)}` }),
        retryAttempts: 0,
        on: { closed: () => (closed = true) },
      });
      const ended = new Promise<void>((resolve) => {
        client.subscribe({ query: 'subscription { indicatorChanged { change } }' }, { next: () => undefined, error: () => resolve(), complete: () => resolve() });
      });
      await new Promise<void>((resolve, reject) => {
        const off = client.on('connected', () => (off(), resolve()));
        setTimeout(() => reject(new Error('subscription did not connect')), 10_000);
      });
      // … and a request in flight (a 10,000-input screening batch) when SIGTERM arrives.
      const token = await tokenFor(admin);
      const inputs = Array.from({ length: 10_000 }, (_, i) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: `0x${i.toString(16).padStart(40, '0')}` }));
      const inFlight = fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'query($i: [ScreenInput!]!) { screenBatch(inputs: $i) { valid } }', variables: { i: inputs } }),
      });
      await new Promise((r) => setTimeout(r, 30));
      child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { data: { screenBatch: unknown[] } }).data.screenBatch).toHaveLength(10_000);
      await ended;
      expect(closed).toBe(true);
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
      await client.dispose();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  });

  it('on SIGTERM lets an operation whose client hung up finish (its audit event written) before closing the database', async () => {
    const db = await createTestDatabase();
    const admin = await newKey();
    const { url, child, exited, output } = await spawnServer({ DATABASE_URL: db.url, CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk), LOG_LEVEL: 'info' });
    const until = async (what: string, condition: () => boolean | Promise<boolean>) => {
      for (const deadline = Date.now() + 15_000; !(await condition()); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      }
    };
    // Holds the audit log's sequencing lock, so that a mutation waits on its audit event (inside
    // its transaction) for as long as this transaction lasts: an operation still running when the
    // server is told to stop, whatever the machine's speed.
    const holder = new pg.Client({ connectionString: db.url });
    try {
      const token = await tokenFor(admin);
      // Without keep-alive (an idle connection would hold the HTTP server's close for seconds).
      const post = (query: string, onSocket?: (socket: net.Socket) => void) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(`${url}/graphql`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          if (onSocket) req.on('socket', onSocket);
          req.on('error', reject);
          req.end(JSON.stringify({ query }));
        });
      expect(await post('{ me { id } }')).toBe(200); // the key is known, the pool is warm
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT size FROM audit_head FOR UPDATE');
      // The client's connection is reset while its call waits (a crashed client, a proxy giving
      // up), and SIGTERM arrives: closing HTTP does not wait for the call (its connection is gone).
      let socket: net.Socket | undefined;
      const call = post('mutation { createMember(input: { name: "Late Member", kind: CARD_PROCESSOR }) { id } }', (s) => (socket = s)).catch(() => undefined);
      // (Asked on connections of their own: pg_stat_activity is a snapshot per transaction.)
      await until('the call to wait on the audit lock', async () => {
        const rows = await superuserQuery(db, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE audit_head%'`);
        return rows.length > 0;
      });
      socket!.resetAndDestroy();
      await call;
      child.kill('SIGTERM');
      // The server has closed HTTP and says it waits for the call; the database is still open.
      await until('the server to wait for the call', () => output().includes('waiting for operations in flight') || child.exitCode !== null);
      expect(child.exitCode).toBeNull();
      await holder.query('COMMIT');
      expect(await exited).toBe(0);
      // The call ran to its end — the member and its audit event are there — and nothing failed
      // for want of a database connection.
      expect(output().split('\n').filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
      const members = await superuserQuery<{ name: string }>(db, `SELECT name FROM member WHERE name = 'Late Member'`);
      expect(members).toHaveLength(1);
      const events = await superuserQuery(db, `SELECT 1 FROM audit_event WHERE action = 'member.create'`);
      expect(events).toHaveLength(1);
    } finally {
      await holder.end().catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  });
});
