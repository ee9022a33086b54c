import { readFileSync } from 'node:fs';
import { bulk } from '../support/bulk.js';
import { spawnServer, type ChildServer } from '../support/child-server.js';
import { superuserQuery } from '../support/database.js';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const LINES = 2_000_000;
const EVERY = 100_000; // a listed address every 100,000 lines

/** Resident memory of a process, in bytes (from /proc). */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) * 1024 : NaN;
}

/**
 * Millions of lines a call, never all in memory: 2,000,000 lines streamed through a server of its
 * own (its heap capped at 256 MB, its resident memory sampled from /proc), answered in input order.
 */
describe('POST /v1/screen: a 2,000,000-line stream (issue 19)', () => {
  let app: TestApp;
  let server: ChildServer;
  let coordinator: Party;
  let exchange: Party;
  const listed: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR', 'SCREENER']);
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    for (let i = 0; i < LINES / EVERY; i++) {
      const value = nextAddress();
      const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, coordinator.key);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      listed.push(value);
    }
    server = await spawnServer({ DATABASE_URL: app.db.url, NODE_OPTIONS: '--max-old-space-size=256' });
  }, 60_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await app?.stop();
  });

  it('answers every line in order, matches exactly the listed ones, with bounded memory and one audit event per 10,000 lines', async () => {
    const pid = server.child.pid!;
    // Warm up (the index is built, code paths compiled), then take the resident memory as the baseline.
    const warm = await bulk(server.url, Array.from({ length: 20_000 }, () => `{"kind":"WALLET_ADDRESS","network":"ethereum","value":"${nextAddress()}"}\n`).join(''), { token: await tokenFor(exchange.key, { audience: app.config.audience }) });
    expect(warm.status).toBe(200);
    const baseline = rss(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 100);

    // The body is generated as it is sent: the client holds neither the request nor the answer.
    const values: string[] = []; // every 1000th value sent, to check the answer's order
    async function* body(): AsyncIterable<string> {
      for (let i = 0; i < LINES; i++) {
        const value = i % EVERY === EVERY / 2 ? listed[Math.floor(i / EVERY)] : nextAddress();
        if (i % 1000 === 0) values.push(value.toLowerCase());
        yield `{"kind":"WALLET_ADDRESS","network":"ethereum","value":"${value}"}\n`;
      }
    }
    let count = 0;
    let outOfOrder = 0;
    const matched: number[] = [];
    let summary: any;
    const answer = await bulk(server.url, body(), {
      token: await tokenFor(exchange.key, { audience: app.config.audience }),
      onLine: (line) => {
        if (line.summary) {
          summary = line.summary;
          return;
        }
        if (count % 1000 === 0 && line.normalized !== values[count / 1000]) outOfOrder++;
        if (line.match) matched.push(count);
        if (!line.valid) outOfOrder++;
        count++;
      },
    });
    clearInterval(sampler);

    expect(answer.status).toBe(200);
    expect(count).toBe(LINES);
    expect(outOfOrder).toBe(0);
    expect(matched).toEqual(listed.map((_, i) => i * EVERY + EVERY / 2));
    expect(summary).toMatchObject({ lines: LINES, results: LINES, matches: listed.length });
    // Bounded memory: 2,000,000 requests and answers held at once would be several hundred MB.
    expect(peak - baseline).toBeLessThan(150 * 1024 * 1024);
    const events = await superuserQuery<{ n: string; total: string }>(
      app.db,
      `SELECT count(*) AS n, sum(((canonical::jsonb)->'data'->>'count')::int) AS total FROM audit_event WHERE action = 'screen' AND (canonical::jsonb)->'data'->>'call' = $1`,
      [String(answer.headers['cordon-call-id'])],
    );
    expect(Number(events[0].total)).toBe(LINES);
    expect(Number(events[0].n)).toBeGreaterThanOrEqual(LINES / 10_000);
    console.log(`2,000,000 lines; server resident memory ${Math.round(baseline / 2 ** 20)} MB → peak ${Math.round(peak / 2 ** 20)} MB`);
  }, 180_000);
});
