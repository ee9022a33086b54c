import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import * as jose from 'jose';
import pg from 'pg';
import { createTestDatabase, superuserQuery, type TestDatabase } from '../support/database.js';
import { newKey, type TestKey, tokenFor } from '../support/keys.js';
import { nextAddress, statement } from '../support/statements.js';

/**
 * Crash safety of statement ingest (issue 8), against the COMPILED server as a child process:
 * SIGKILLs at random moments while batches stream in, and the database connections dropped in
 * the middle of a batch's transaction. Whatever the timing, every statement that got a receipt is
 * stored exactly once with its receipt, its indicator and its audit event; nothing is
 * half-written; re-sending is idempotent; and the audit log still verifies.
 */

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SERVER = path.join(ROOT, 'dist/apps/api/src/main.js');
const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

/** Statements per streamed batch (the last item repeats the first JWS). */
const BATCH = 300;
/** Batches in flight at once. */
const IN_FLIGHT = 3;
/** SIGKILLs while streaming. */
const KILLS = 4;
/** Batches streamed at least (more while kills remain). */
const MIN_BATCHES = 12;
/** The batch whose database connection is dropped mid-transaction. */
const LARGE_BATCH = 2000;

const SUBMIT_MANY = `mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code error result { receipt } } }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The server's answer (HTTP status and body), or why there was none (the response was lost). */
interface Answer<T = { submitStatements?: Outcome[] }> {
  status?: number;
  body?: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
  lost?: string;
}
interface Outcome {
  ok: boolean;
  code: string | null;
  error: string | null;
  result: { receipt: string } | null;
}

async function postGraphql<T = { submitStatements?: Outcome[] }>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<Answer<T>> {
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as Answer<T>['body'] };
    } catch {
      return { status: res.status, lost: `not JSON: ${text.slice(0, 200)}` };
    }
  } catch (err) {
    return { lost: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** The compiled service as a child process on a fixed port and database; killed and restarted at will. */
class CordonProcess {
  private child: ChildProcess | null = null;
  private output = '';
  private up = false;
  private waiters: (() => void)[] = [];
  starts = 0;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Still running (not crashed) since its last start. */
  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(): string {
    return this.output.slice(-4000);
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env.PATH ?? '', PORT: String(this.port), LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-64_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    this.starts++;
    const until = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited at start:\n${this.tail()}`);
      const healthy = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (healthy) break;
      if (Date.now() > until) throw new Error(`the server did not become healthy:\n${this.tail()}`);
      await sleep(50);
    }
    this.up = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves while the server is up (at once, or after the next start). */
  whenUp(): Promise<void> {
    return this.up ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  private exited(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => child.once('exit', () => r()));
  }

  async kill(): Promise<void> {
    const child = this.child!;
    this.up = false;
    const exited = this.exited(child);
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.up = false;
    const exited = this.exited(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** A batch as streamed: its JWS texts, and the receipts once an answer came back. */
interface Batch {
  id: number;
  jws: string[];
  receipts?: string[];
  lost: number;
  /** re-sent after the fact, and found idempotent */
  resent?: boolean;
}
interface Sent {
  jws: string;
  jti: string;
  address: string;
  receipt: string;
}

async function cordonVerify(databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'audit', 'verify', '--database-url', databaseUrl], {
      env: { PATH: process.env.PATH ?? '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('crash safety of statement ingest (issue 8)', () => {
  let db: TestDatabase;
  let admin: TestKey;
  let server: CordonProcess;
  let contributor: { principalId: string; key: TestKey };
  /** Every statement that got a receipt, by SHA-256 of its JWS. */
  const accepted = new Map<string, Sent>();
  /** Every batch sent, with its receipts. */
  const batches: Batch[] = [];
  const addressOf = new Map<string, { jti: string; address: string }>();
  const started = Date.now();

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = await newKey('ES256');
    server = new CordonProcess(await freePort(), {
      DATABASE_URL: db.url,
      CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk),
      CORDON_DB_POOL_SIZE: '6',
    });
    await server.start();
    const adminToken = await tokenFor(admin);
    const member = await postGraphql<{ createMember: { id: string } }>(server.url, adminToken, `mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`, {
      i: { name: 'crash-exchange', kind: 'CRYPTO_EXCHANGE' },
    });
    if (member.body?.errors || !member.body?.data) throw new Error(`createMember: ${JSON.stringify(member)}`);
    const key = await newKey();
    const principal = await postGraphql<{ createPrincipal: { id: string } }>(server.url, adminToken, `mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }`, {
      i: { memberId: member.body!.data!.createMember.id, name: 'ingest', roles: ['CONTRIBUTOR'], publicJwk: key.publicJwk },
    });
    if (principal.body?.errors || !principal.body?.data) throw new Error(`createPrincipal: ${JSON.stringify(principal)}`);
    contributor = { principalId: principal.body!.data!.createPrincipal.id, key };
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    console.log(`crash-safety: ${accepted.size} statements in ${batches.length} batches, ${server?.starts ?? 0} server starts, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  /** Indicator values shared between batches, so concurrent batches lock the same indicators. */
  const shared = Array.from({ length: 40 }, () => nextAddress());

  async function makeBatch(id: number, size: number): Promise<Batch> {
    const jws = await Promise.all(
      Array.from({ length: size - 1 }, async (_, i) => {
        const jti = `batch-${id}-${i}`;
        const address = i % 5 === 0 ? shared[randomInt(shared.length)] : nextAddress();
        const text = await statement(contributor.key, { iss: contributor.principalId, jti, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: address } });
        addressOf.set(sha256(text), { jti, address });
        return text;
      }),
    );
    jws.push(jws[0]); // the same JWS twice in one batch: one statement, the same receipt
    const batch: Batch = { id, jws, lost: 0 };
    batches.push(batch);
    return batch;
  }

  /** Sends a batch; resolves with the receipts when every item was accepted, or with what went wrong. */
  async function send(batch: Batch, timeoutMs?: number): Promise<{ receipts?: string[]; answer: Answer }> {
    const answer = await postGraphql(server.url, await tokenFor(contributor.key), SUBMIT_MANY, { jws: batch.jws }, timeoutMs);
    const outcomes = answer.body?.data?.submitStatements;
    if (answer.status !== 200 || answer.body?.errors || !outcomes || !outcomes.every((o) => o.ok)) return { answer };
    return { receipts: outcomes.map((o) => o.result!.receipt), answer };
  }

  /** Keeps what an answered batch got, checking that a receipt never changes for the same JWS. */
  function record(batch: Batch, receipts: string[]): void {
    expect(receipts).toHaveLength(batch.jws.length);
    expect(receipts[receipts.length - 1]).toBe(receipts[0]);
    if (batch.receipts) expect(receipts).toEqual(batch.receipts);
    batch.receipts = receipts;
    batch.jws.forEach((jws, i) => {
      const sha = sha256(jws);
      const seen = accepted.get(sha);
      if (seen) expect(seen.receipt).toBe(receipts[i]);
      else accepted.set(sha, { jws, ...addressOf.get(sha)!, receipt: receipts[i] });
    });
  }

  /** Polls pg_stat_activity as the superuser until `sql` (a WHERE clause over it) matches a backend. */
  async function waitForBackend(where: string, timeoutMs: number): Promise<boolean> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (${where})`,
        );
        if ((rows[0] as { n: number }).n > 0) return true;
        await sleep(3);
      }
      return false;
    } finally {
      await client.end();
    }
  }

  /** The store holds exactly what was accepted, whole, and the audit log accounts for it. */
  async function checkStore(): Promise<void> {
    const rows = await superuserQuery<{
      id: string;
      sha256: string;
      jti: string;
      jws: string;
      indicator_id: string;
      value: string | null;
      fingerprint: string | null;
      receipt: string | null;
      audit_index: string | null;
    }>(
      db,
      `SELECT s.id, s.sha256, s.jti, s.jws, s.indicator_id, i.value, i.fingerprint, r.receipt, r.audit_index
         FROM statement s LEFT JOIN statement_receipt r ON r.statement_id = s.id LEFT JOIN indicator i ON i.id = s.indicator_id`,
    );
    // Exactly once: as many statements as accepted, no SHA-256 and no jti twice.
    expect(rows).toHaveLength(accepted.size);
    expect(new Set(rows.map((r) => r.sha256)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.jti)).size).toBe(rows.length);

    const [orphans] = await superuserQuery<{ receipts: number; indicators: number; sites: number; changes: number }>(
      db,
      `SELECT (SELECT count(*)::int FROM statement_receipt r WHERE NOT EXISTS (SELECT 1 FROM statement s WHERE s.id = r.statement_id)) AS receipts,
              (SELECT count(*)::int FROM indicator i WHERE NOT EXISTS (SELECT 1 FROM statement s WHERE s.indicator_id = i.id)) AS indicators,
              (SELECT count(*)::int FROM statement_site t WHERE NOT EXISTS (SELECT 1 FROM statement s WHERE s.id = t.statement_id)) AS sites,
              (SELECT count(*)::int FROM indicator_change c WHERE NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.idx = c.idx)) AS changes`,
    );
    expect(orphans).toEqual({ receipts: 0, indicators: 0, sites: 0, changes: 0 });

    // Gapless audit log from 0, and the head agrees.
    const [log] = await superuserQuery<{ n: number; lo: number | null; hi: number | null; head: number }>(
      db,
      'SELECT count(*)::int AS n, min(idx)::int AS lo, max(idx)::int AS hi, (SELECT size::int FROM audit_head) AS head FROM audit_event',
    );
    expect(log.lo).toBe(0);
    expect(log.hi).toBe(log.n - 1);
    expect(log.head).toBe(log.n);

    // Every statements.accept event lists statements that are stored under that index, and only those.
    const events = await superuserQuery<{ idx: string; canonical: string }>(db, `SELECT idx, canonical FROM audit_event WHERE action = 'statements.accept' ORDER BY idx`);
    const listed = new Map<string, { idx: number; id: string; jti: string }>();
    for (const e of events) {
      const body = JSON.parse(e.canonical) as { index: number; data: { statements: { id: string; sha256: string; jti: string }[] } };
      expect(body.index).toBe(Number(e.idx));
      for (const s of body.data.statements) {
        expect(listed.has(s.sha256)).toBe(false);
        listed.set(s.sha256, { idx: Number(e.idx), id: s.id, jti: s.jti });
      }
    }
    expect(listed.size).toBe(rows.length);

    const jwks = jose.createLocalJWKSet((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as jose.JSONWebKeySet);
    for (const row of rows) {
      const sent = accepted.get(row.sha256);
      expect(sent).toBeDefined();
      expect(row.jws).toBe(sent!.jws); // the exact JWS as received
      expect(row.jti).toBe(sent!.jti);
      expect(row.receipt).toBe(sent!.receipt); // the receipt row exists and is the one that came back
      expect(row.value).toBe(sent!.address); // its indicator exists and is the statement's
      expect(row.fingerprint).toBe(sha256(`WALLET_ADDRESS|ethereum|${sent!.address}`));
      const event = listed.get(row.sha256);
      expect(event).toEqual({ idx: Number(row.audit_index), id: row.id, jti: row.jti });
    }
    // The receipts verify with the published keys and name the statement, its indicator and its event.
    await Promise.all(
      rows.map(async (row) => {
        const { payload, protectedHeader } = await jose.compactVerify(row.receipt!, jwks);
        expect(protectedHeader.typ).toBe('cordon-receipt+jwt');
        const claims = JSON.parse(new TextDecoder().decode(payload)) as { statementSha256: string; indicatorId: string; auditIndex: number; acceptedAt: string };
        expect(claims).toEqual({ statementSha256: row.sha256, indicatorId: row.indicator_id, auditIndex: Number(row.audit_index), acceptedAt: expect.any(String) });
        const canonical = events.find((e) => Number(e.idx) === claims.auditIndex)!.canonical;
        expect(canonical).toContain(`"sha256":"${row.sha256}"`);
      }),
    );
  }

  /** Re-sends these batches: the same receipts, and nothing new stored. */
  async function resend(list: Batch[]): Promise<void> {
    const [{ before }] = await superuserQuery<{ before: number }>(db, 'SELECT count(*)::int AS before FROM statement');
    for (let i = 0; i < list.length; i += IN_FLIGHT) {
      await Promise.all(
        list.slice(i, i + IN_FLIGHT).map(async (batch) => {
          const { receipts, answer } = await send(batch);
          if (!receipts) throw new Error(`re-sending batch ${batch.id} failed: ${JSON.stringify(answer).slice(0, 500)}`);
          expect(receipts).toEqual(batch.receipts);
          batch.resent = true;
        }),
      );
    }
    const [{ after }] = await superuserQuery<{ after: number }>(db, 'SELECT count(*)::int AS after FROM statement');
    expect(after).toBe(before);
  }

  async function verifyAuditLog(): Promise<void> {
    const checkpoint = await postGraphql<{ auditCheckpoint: { treeSize: number } }>(server.url, await tokenFor(admin), '{ auditCheckpoint { treeSize } }', {});
    expect(checkpoint.body?.errors).toBeUndefined();
    const [{ n }] = await superuserQuery<{ n: number }>(db, 'SELECT count(*)::int AS n FROM audit_event');
    expect(checkpoint.body!.data).toEqual({ auditCheckpoint: { treeSize: expect.any(Number) } });
    expect(checkpoint.body!.data!.auditCheckpoint.treeSize).toBeLessThanOrEqual(n);
    const verdict = await cordonVerify(db.url);
    if (verdict.code !== 0) throw new Error(`audit verify failed (${verdict.code}):\n${verdict.stdout}\n${verdict.stderr}`);
  }

  it(
    'keeps every receipted statement exactly once through SIGKILLs at random moments while batches stream in',
    async () => {
      let made = 0;
      let inFlight = 0;
      let killsDone = false;
      let lostResponses = 0;
      let killedMidTransaction = false;
      let failed = false;
      const unexpected: string[] = [];
      const queue: Batch[] = [];

      const worker = async (): Promise<void> => {
        while (!failed) {
          let batch = queue.shift();
          if (!batch) {
            if (killsDone && made >= MIN_BATCHES) {
              if (queue.length === 0 && inFlight === 0) return;
              await sleep(20);
              continue;
            }
            batch = await makeBatch(made++, BATCH);
          }
          await server.whenUp();
          inFlight++;
          const { receipts, answer } = await send(batch);
          inFlight--;
          if (receipts) {
            record(batch, receipts);
            continue;
          }
          // The response was lost (the server died under it): send the batch again once it is back.
          if (!answer.lost) unexpected.push(`batch ${batch.id}: ${JSON.stringify(answer.body).slice(0, 500)}`);
          batch.lost++;
          lostResponses++;
          if (batch.lost > 10) throw new Error(`batch ${batch.id} never went through: ${JSON.stringify(answer).slice(0, 500)}`);
          queue.push(batch);
        }
      };

      const killer = async (): Promise<void> => {
        for (let k = 0; k < KILLS; k++) {
          while (inFlight === 0 && !failed) await sleep(5);
          if (failed) return;
          if (k === 1) {
            // Once, deterministically inside a batch's write transaction (statements or audit event being written).
            killedMidTransaction = await waitForBackend(
              `application_name = 'cordon' AND xact_start IS NOT NULL AND (query LIKE 'INSERT INTO statement (%' OR query LIKE '%UPDATE audit_head%' OR query LIKE 'WITH prior AS%')`,
              20_000,
            );
          } else {
            await sleep(randomInt(0, 1500));
          }
          await server.kill();
          await server.start();
        }
        killsDone = true;
      };

      // The first failure stops everybody (no loop left running after the test).
      const guard = (p: Promise<void>) =>
        p.catch((err: unknown) => {
          failed = true;
          throw err;
        });
      await Promise.all([guard(killer()), ...Array.from({ length: IN_FLIGHT }, () => guard(worker()))]);

      expect(unexpected).toEqual([]);
      expect(server.starts).toBe(1 + KILLS);
      expect(killedMidTransaction).toBe(true);
      expect(lostResponses).toBeGreaterThan(0);
      expect(batches.every((b) => b.receipts)).toBe(true);
      expect(accepted.size).toBe(batches.length * (BATCH - 1));

      await checkStore();
      await resend(batches);
      await verifyAuditLog();
    },
    120_000,
  );

  /**
   * Sends a large batch and, once its transaction has written the statements and waits for the
   * audit sequencing lock (held here, so the moment is certain), terminates the server's backends
   * matching `which` as the superuser. Returns the batch's answer.
   */
  async function dropConnectionsMidBatch(batch: Batch, which: string): Promise<Answer> {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT size FROM audit_head FOR UPDATE');
      const pending = send(batch, 60_000);
      const waiting = await waitForBackend(`application_name = 'cordon' AND wait_event_type = 'Lock' AND query LIKE '%UPDATE audit_head%'`, 30_000);
      expect(waiting).toBe(true);
      const terminated = await locker.query(
        `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND (${which})) t`,
      );
      expect((terminated.rows[0] as { n: number }).n).toBeGreaterThan(0);
      await locker.query('ROLLBACK');
      return (await pending).answer;
    } finally {
      await locker.end();
    }
  }

  /** The batch failed cleanly: an answer (no hang), errors only, the server alive, nothing stored. */
  async function expectCleanFailure(answer: Answer, before: number): Promise<void> {
    if (answer.lost) throw new Error(`no answer (${answer.lost}); server alive: ${server.alive}\n${server.tail()}`);
    const outcomes = answer.body?.data?.submitStatements;
    if (outcomes) expect(outcomes.every((o) => !o.ok && o.code)).toBe(true);
    else expect(answer.body?.errors?.length).toBeGreaterThan(0);
    await sleep(300);
    if (!server.alive) throw new Error(`the server died:\n${server.tail()}`);
    const [{ after }] = await superuserQuery<{ after: number }>(db, 'SELECT count(*)::int AS after FROM statement');
    expect(after).toBe(before);
  }

  /** The pool recovered: the next requests are served at once, and the batch goes through, once. */
  async function expectRecovery(batch: Batch): Promise<void> {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const me = await postGraphql(server.url, await tokenFor(contributor.key), '{ me { id } }', {});
    expect(me.body).toEqual({ data: { me: { id: contributor.principalId } } });
    const retried = await send(batch);
    if (!retried.receipts) throw new Error(`the retried batch failed: ${JSON.stringify(retried.answer).slice(0, 1000)}`);
    record(batch, retried.receipts);
    expect(server.alive).toBe(true);
  }

  const statementCount = async () => (await superuserQuery<{ n: number }>(db, 'SELECT count(*)::int AS n FROM statement'))[0].n;

  it(
    'fails a batch cleanly when its database connections (and the idle ones of the pool) are dropped mid-transaction, and takes it again once',
    async () => {
      const batch = await makeBatch(batches.length, LARGE_BATCH);
      const before = await statementCount();
      // Every backend of the server but its LISTEN connection (see the next test).
      const answer = await dropConnectionsMidBatch(batch, `application_name = 'cordon' AND query NOT LIKE 'LISTEN %'`);
      await expectCleanFailure(answer, before);
      await expectRecovery(batch);
      await checkStore();
    },
    60_000,
  );

  // The LISTEN connection too (a database restart, a failover): the process must not fall over
  // but take another connection and carry on (found by this test, fixed in ChangeStream).
  it(
    'survives all of its backends terminated mid-batch, its LISTEN connection included, failing the batch cleanly',
    async () => {
      const batch = await makeBatch(batches.length, LARGE_BATCH / 4);
      const before = await statementCount();
      const answer = await dropConnectionsMidBatch(batch, 'true');
      await expectCleanFailure(answer, before);
      await expectRecovery(batch);
      expect(server.alive).toBe(true);
    },
    60_000,
  );

  it(
    'after all of it (restarting the server if it died), every receipted statement is whole and stored once, re-sending is idempotent, and the audit log verifies',
    async () => {
      if (!server.alive) await server.start();
      // Batches that never got their answer go through now, once.
      for (const batch of batches.filter((b) => !b.receipts)) {
        const { receipts, answer } = await send(batch);
        if (!receipts) throw new Error(`batch ${batch.id} failed: ${JSON.stringify(answer).slice(0, 1000)}`);
        record(batch, receipts);
      }
      await checkStore();
      await resend(batches.filter((b) => !b.resent)); // the streamed ones were re-sent by the first test
      await verifyAuditLog();
    },
    60_000,
  );
});
