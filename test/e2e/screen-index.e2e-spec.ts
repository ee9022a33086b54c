import { bulk } from '../support/bulk.js';
import { spawnServer, type ChildServer } from '../support/child-server.js';
import { superuserQuery } from '../support/database.js';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, post, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';
import { metricsText } from '../support/metrics.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const SCREEN = 'query($i: ScreenInput!) { screen(input: $i) { match indicator { id } } }';
const BATCH = 'query($i: [ScreenInput!]!) { screenBatch(inputs: $i) { match indicator { id } } }';

async function metric(url: string, name: string): Promise<number> {
  const text = await metricsText(url);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/**
 * The screening index's invariant (README "Screening in bulk"): a statement committed through one
 * API process is matched by any screening call that starts after the commit on another process —
 * whatever became of the notification that tells that process's index.
 */
describe('screening index: never a stale miss (issue 19)', () => {
  let app: TestApp; // process A (this one): the writer
  let other: ChildServer; // process B: the screener
  let coordinator: Party;
  let screener: Party;

  beforeAll(async () => {
    app = await startTestApp();
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR', 'SCREENER']);
    screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    other = await spawnServer({ DATABASE_URL: app.db.url, CORDON_RATE_LIMIT: '100000', CORDON_AUTH_FAILURE_LIMIT: '100000', CORDON_DB_POOL_SIZE: '6' });
    for (let i = 0; (await metric(other.url, 'cordon_screen_index_ready')) !== 1; i++) {
      if (i > 200) throw new Error('the index of process B was not built');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(async () => {
    other?.child.kill('SIGTERM');
    await other?.exited;
    await app?.stop();
  });

  async function submit(value: string): Promise<string> {
    const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, coordinator.key);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.submitStatement.indicator.id;
  }

  it('a statement committed through A matches on B at once, 2,000 times, with concurrent writers and B’s LISTEN connection killed again and again', async () => {
    const token = () => tokenFor(screener.key, { audience: app.config.audience });
    let stop = false;
    // Concurrent writers through both processes, so B's index is always catching up with something.
    const writers = [0, 1].map(async (w) => {
      let n = 0;
      while (!stop) {
        const jws = await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() } });
        const res = await post(w === 1 ? other.url : app.url, { query: SUBMIT, variables: { jws } }, await tokenFor(coordinator.key, { audience: app.config.audience }));
        if (res.errors) throw new Error(JSON.stringify(res.errors));
        n++;
        await new Promise((r) => setTimeout(r, 5));
      }
      return n;
    });
    // While the middle half of the checks runs, the notification connections are terminated every
    // 20 ms: B learns of nothing by NOTIFY then, only from the feed head its calls read.
    const CHECKS = 2000;
    let done = 0;
    let killed = 0;
    let killing = false;
    const killer = (async () => {
      while (done < CHECKS / 4) await new Promise((r) => setTimeout(r, 10));
      killing = true;
      while (done < (3 * CHECKS) / 4 && !stop) {
        const rows = await superuserQuery<{ ok: boolean }>(
          app.db,
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')`,
        );
        killed += rows.filter((r) => r.ok).length;
        await new Promise((r) => setTimeout(r, 20));
      }
      killing = false;
    })();
    const misses: string[] = [];
    let checkedWhileKilling = 0;
    // Four lanes at once, each: submit through A, then (after the commit has been answered) screen
    // on B — single, batch and bulk in turn.
    const lane = async () => {
      while (done < CHECKS) {
        const i = done++;
        const value = nextAddress();
        const id = await submit(value);
        const input = { kind: 'WALLET_ADDRESS', network: 'ethereum', value };
        let matched: string | undefined;
        if (i % 3 === 0) {
          const res = await post(other.url, { query: SCREEN, variables: { i: input } }, await token());
          matched = res.data?.screen.match ? res.data.screen.indicator.id : undefined;
        } else if (i % 3 === 1) {
          const inputs = [...Array.from({ length: 20 }, () => ({ ...input, value: nextAddress() })), input];
          const res = await post(other.url, { query: BATCH, variables: { i: inputs } }, await token());
          const last = res.data?.screenBatch.at(-1);
          matched = last?.match ? last.indicator.id : undefined;
        } else {
          const answer = await bulk(other.url, `${JSON.stringify({ ...input, value: nextAddress() })}\n${JSON.stringify(input)}\n`, { token: await token() });
          matched = answer.lines[1]?.match ? answer.lines[1].indicator.id : undefined;
        }
        if (killing) checkedWhileKilling++;
        if (matched !== id) misses.push(`check ${i}: ${value} (${id}) answered ${matched ?? 'no match'}`);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    await killer;
    stop = true;
    const written = await Promise.all(writers);
    expect(misses).toEqual([]);
    expect(killed).toBeGreaterThan(5);
    expect(checkedWhileKilling).toBeGreaterThan(CHECKS / 3);
    expect(written.reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
    // B's index was built and used: it holds (nearly) everything listed, and misses skip SQL.
    const listed = Number((await superuserQuery<{ n: string }>(app.db, 'SELECT count(*) AS n FROM indicator'))[0].n);
    await new Promise((r) => setTimeout(r, 1500)); // reconnected and caught up
    const before = await metric(other.url, 'cordon_screening_sql_keys_total');
    const res = await post(other.url, { query: BATCH, variables: { i: Array.from({ length: 1000 }, () => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() })) } }, await token());
    expect(res.data!.screenBatch.filter((r: { match: boolean }) => r.match)).toEqual([]);
    expect((await metric(other.url, 'cordon_screening_sql_keys_total')) - before).toBeLessThan(5);
    expect(await metric(other.url, 'cordon_screen_index_keys')).toBeGreaterThanOrEqual(listed);
  }, 240_000);
});
