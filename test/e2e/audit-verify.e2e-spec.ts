import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import canonicalize from 'canonicalize';
import pg from 'pg';
import { type VerifyReport, verifyAuditLog } from '@app/audit';
import { appendLeaves, emptyFrontier, encodeFrontier, leafHash } from '@app/merkle';
import { newKey, signRaw } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { superuserQuery } from '../support/database.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

interface Checkpoint {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
  signature: string;
}

/** `cordon audit verify` as a user runs it; resolves with the exit code and output. */
async function cordonVerify(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'audit', 'verify', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cordon audit verify: tampering behind the service is detected (SPEC 6)', () => {
  let app: TestApp;
  let url: string;
  let early: Checkpoint;
  let latest: Checkpoint;
  let events: number;

  /** As the superuser with the append-only triggers off, on one connection. */
  async function behindTheBack<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('SET session_replication_role = replica');
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  async function verifyInProcess(options: { chunk?: number } = {}): Promise<VerifyReport> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await verifyAuditLog(client, options);
    } finally {
      await client.end();
    }
  }

  /** Both the library and the compiled CLI report the tampering at `index`, with a problem matching `what`. */
  async function expectCaught(index: number, what: RegExp): Promise<VerifyReport> {
    const report = await verifyInProcess();
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(index);
    expect(report.problems.map((p) => p.what).join('\n')).toMatch(what);
    expect(report.problems.find((p) => what.test(p.what))?.index).toBe(index);
    const small = await verifyInProcess({ chunk: 3 });
    expect(small).toEqual(report);
    const cli = await cordonVerify({ DATABASE_URL: url });
    expect(cli.code).toBe(1);
    expect(cli.stdout.split('\n')[0]).toBe(`audit log verification FAILED at index ${index}`);
    expect(cli.stdout).toMatch(what);
    return report;
  }

  async function expectVerified(): Promise<void> {
    const report = await verifyInProcess();
    expect(report).toMatchObject({ ok: true, events, checkpoints: 2, firstBadIndex: null, problems: [] });
    const cli = await cordonVerify({ DATABASE_URL: url });
    expect(cli).toMatchObject({ code: 0, stdout: `audit log verified: ${events} events, ${report.nodes} nodes, 2 checkpoints\n` });
  }

  /** Tampers, checks it is caught, undoes it whatever happened, and checks the log verifies again. */
  async function tampered(apply: (c: pg.Client) => Promise<unknown>, undo: (c: pg.Client) => Promise<unknown>, check: () => Promise<unknown>): Promise<void> {
    await behindTheBack(apply);
    try {
      await check();
    } finally {
      await behindTheBack(undo);
    }
    await expectVerified();
  }

  async function checkpoint(): Promise<Checkpoint> {
    const res = await app.gql<{ auditCheckpoint: Checkpoint }>('{ auditCheckpoint { treeSize rootHash issuedAt signature } }');
    expect(res.errors).toBeUndefined();
    return res.data!.auditCheckpoint;
  }

  beforeAll(async () => {
    app = await startTestApp();
    url = app.db.url;
    for (let i = 0; i < 4; i++) await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    early = await checkpoint();
    for (let i = 0; i < 5; i++) await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    latest = await checkpoint();
    // Nothing changes the log from here on but the tests.
    await app.server.close();
    const [{ size }] = await superuserQuery<{ size: string }>(app.db, 'SELECT size FROM audit_head');
    events = Number(size);
  });
  afterAll(async () => {
    await app?.db.drop();
  });

  it('passes on the log as the service wrote it, integrated and checkpointed', async () => {
    expect(events).toBeGreaterThanOrEqual(20);
    expect(latest.treeSize).toBe(events);
    expect(early.treeSize).toBeLessThan(events - 4);
    const [tree] = await superuserQuery<{ size: string }>(app.db, 'SELECT size FROM audit_tree');
    expect(Number(tree.size)).toBe(events);
    await expectVerified();
    expect((await verifyInProcess()).nodes).toBe(events - [...events.toString(2)].filter((b) => b === '1').length);
  });

  it('needs a database URL: exit 2 saying so', async () => {
    const cli = await cordonVerify({});
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--database-url');
    expect(await cordonVerify({}, ['--database-url', url])).toMatchObject({ code: 0 });
  });

  it('an edited canonical text: the leaf hash no longer matches', async () => {
    const [row] = await superuserQuery<{ canonical: string }>(app.db, 'SELECT canonical FROM audit_event WHERE idx = 5');
    await tampered(
      (c) => c.query(`UPDATE audit_event SET canonical = replace(canonical, '"v":2', '"v":1') WHERE idx = 5`),
      (c) => c.query('UPDATE audit_event SET canonical = $1 WHERE idx = 5', [row.canonical]),
      () => expectCaught(5, /event 5: .*leaf_hash is not SHA-256/),
    );
  });

  it('canonical and leaf_hash edited consistently: the stored node above it differs', async () => {
    const index = 6;
    const [row] = await superuserQuery<{ canonical: string; leaf_hash: Buffer }>(app.db, 'SELECT canonical, leaf_hash FROM audit_event WHERE idx = $1', [index]);
    const event = JSON.parse(row.canonical);
    event.data = { ...event.data, name: 'Forged Name' };
    const forged = canonicalize(event)!;
    await tampered(
      (c) => c.query('UPDATE audit_event SET canonical = $2, leaf_hash = $3 WHERE idx = $1', [index, forged, leafHash(forged)]),
      (c) => c.query('UPDATE audit_event SET canonical = $2, leaf_hash = $3 WHERE idx = $1', [index, row.canonical, row.leaf_hash]),
      async () => {
        const report = await expectCaught(index, /audit_node \(level 1, idx 3\) over leaves \[6, 8\) differs/);
        // The nodes above it, the frontier and both checkpoints (which cover it) differ too, all attributed to it.
        for (const size of [early.treeSize, latest.treeSize]) {
          expect(report.problems).toContainEqual({ index, what: expect.stringMatching(new RegExp(`^checkpoint of size ${size} .*: root [0-9a-f]{64} differs`)) });
        }
        expect(report.problems).toContainEqual({ index, what: expect.stringMatching(/^audit_tree frontier at size \d+ differs/) });
        expect(report.problems.every((p) => p.index === index)).toBe(true);
      },
    );
  });

  it('an event stripped of its salt (or given a short one), leaf_hash recomputed: the event itself is named', async () => {
    const index = 9;
    const [row] = await superuserQuery<{ canonical: string; leaf_hash: Buffer }>(app.db, 'SELECT canonical, leaf_hash FROM audit_event WHERE idx = $1', [index]);
    const { salt, ...event } = JSON.parse(row.canonical);
    expect(salt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const [forgedEvent, what] of [
      [{ ...event, v: 1 }, /event 9: .*an unsalted \(v 1\) event after salted events/],
      [{ ...event, salt: 'short' }, /event 9: .*canonical salt is not 256 bits of base64url/],
      [event, /event 9: .*canonical members are not exactly action, actor, at, data, index, salt, subject, subjectMember, v/],
    ] as const) {
      const forged = canonicalize(forgedEvent)!;
      await tampered(
        (c) => c.query('UPDATE audit_event SET canonical = $2, leaf_hash = $3 WHERE idx = $1', [index, forged, leafHash(forged)]),
        (c) => c.query('UPDATE audit_event SET canonical = $2, leaf_hash = $3 WHERE idx = $1', [index, row.canonical, row.leaf_hash]),
        () => expectCaught(index, what),
      );
    }
  });

  it('a deleted event: the gap is named', async () => {
    const [row] = await superuserQuery(app.db, 'SELECT * FROM audit_event WHERE idx = 7');
    await tampered(
      (c) => c.query('DELETE FROM audit_event WHERE idx = 7'),
      (c) => reinsert(c, [row]),
      () => expectCaught(7, /event 7 is missing \(the next stored event is 8\)/),
    );
  });

  it('two events swapped (reordered): the first moved one is named', async () => {
    const swap = (c: pg.Client) =>
      c.query(`
        UPDATE audit_event e SET at = o.at, action = o.action, actor_principal_id = o.actor_principal_id, actor_member_id = o.actor_member_id,
               subject_id = o.subject_id, subject_member_id = o.subject_member_id, canonical = o.canonical, leaf_hash = o.leaf_hash
          FROM audit_event o WHERE (e.idx, o.idx) IN ((3, 9), (9, 3))`);
    await tampered(swap, swap, () => expectCaught(3, /event 3: canonical index 9 differs from idx 3/));
  });

  it('only the action column changed: it disagrees with the canonical bytes', async () => {
    const [row] = await superuserQuery<{ action: string }>(app.db, 'SELECT action FROM audit_event WHERE idx = 4');
    await tampered(
      (c) => c.query(`UPDATE audit_event SET action = 'member.nothing' WHERE idx = 4`),
      (c) => c.query('UPDATE audit_event SET action = $1 WHERE idx = 4', [row.action]),
      () => expectCaught(4, /event 4: canonical action .* differs from the action column "member.nothing"/),
    );
  });

  it('one stored node hash changed: that node is named by the first leaf it covers', async () => {
    const [row] = await superuserQuery<{ hash: Buffer }>(app.db, 'SELECT hash FROM audit_node WHERE level = 2 AND idx = 1');
    await tampered(
      (c) => c.query('UPDATE audit_node SET hash = $1 WHERE level = 2 AND idx = 1', [randomBytes(32)]),
      (c) => c.query('UPDATE audit_node SET hash = $1 WHERE level = 2 AND idx = 1', [row.hash]),
      async () => {
        const report = await expectCaught(4, /audit_node \(level 2, idx 1\) over leaves \[4, 8\) differs from the rebuilt tree/);
        expect(report.problemCount).toBe(1);
      },
    );
  });

  it('the tail deleted and head, tree and nodes rewound to match: the stored checkpoint catches it', async () => {
    const keep = events - 3;
    const tail = await superuserQuery(app.db, 'SELECT * FROM audit_event WHERE idx >= $1 ORDER BY idx', [keep]);
    const [tree] = await superuserQuery<{ frontier: Buffer }>(app.db, 'SELECT frontier FROM audit_tree');
    const beyond = 'FROM audit_node WHERE (idx + 1) * (2::numeric ^ level) > $1';
    const nodes = await superuserQuery<{ level: number; idx: string; hash: Buffer }>(app.db, `SELECT level, idx, hash ${beyond}`, [keep]);
    expect(nodes.length).toBeGreaterThan(0);
    const leaves = await superuserQuery<{ leaf_hash: Buffer }>(app.db, 'SELECT leaf_hash FROM audit_event WHERE idx < $1 ORDER BY idx', [keep]);
    const { frontier } = appendLeaves(emptyFrontier(), leaves.map((l) => l.leaf_hash));
    await tampered(
      async (c) => {
        await c.query('DELETE FROM audit_event WHERE idx >= $1', [keep]);
        await c.query(`DELETE ${beyond}`, [keep]);
        await c.query('UPDATE audit_head SET size = $1', [keep]);
        await c.query('UPDATE audit_tree SET size = $1, frontier = $2', [keep, encodeFrontier(frontier)]);
      },
      async (c) => {
        await reinsert(c, tail);
        for (const n of nodes) await c.query('INSERT INTO audit_node (level, idx, hash) VALUES ($1, $2, $3)', [n.level, n.idx, n.hash]);
        await c.query('UPDATE audit_head SET size = $1', [events]);
        await c.query('UPDATE audit_tree SET size = $1, frontier = $2', [events, tree.frontier]);
      },
      async () => {
        const report = await expectCaught(keep, new RegExp(`checkpoint of size ${latest.treeSize} issued .* exceeds the log of ${keep} events`));
        expect(report.problemCount).toBe(1);
      },
    );
  });

  it('a forged checkpoint row with another root: named at its size', async () => {
    const issuedAt = new Date(Date.now() + 1000).toISOString();
    await tampered(
      (c) =>
        c.query('INSERT INTO audit_checkpoint (tree_size, root_hash, issued_at, signature) VALUES ($1, $2, $3, $4)', [
          early.treeSize,
          randomBytes(32),
          issuedAt,
          early.signature,
        ]),
      deleteCheckpoint(issuedAt),
      () =>
        expectCaught(
          early.treeSize,
          new RegExp(`checkpoint of size ${early.treeSize} issued ${issuedAt}: root [0-9a-f]{64} differs from the rebuilt root ${early.rootHash}.*signed rootHash differs`),
        ),
    );
  });

  it('a checkpoint signed by another key, even with the right root and the exchange kid: named at its size', async () => {
    const [exchange] = await superuserQuery<{ kid: string }>(app.db, 'SELECT kid FROM exchange_key');
    const stranger = await newKey('ES256');
    for (const kid of [stranger.kid, exchange.kid]) {
      const issuedAt = new Date(Date.now() + 1000).toISOString();
      const signature = await signRaw(stranger, { typ: 'cordon-checkpoint+jwt', kid }, { treeSize: early.treeSize, rootHash: early.rootHash, issuedAt });
      const what = kid === exchange.kid ? `does not verify with exchange key ${kid}` : `kid "${kid}" is not an exchange key`;
      await tampered(
        (c) =>
          c.query('INSERT INTO audit_checkpoint (tree_size, root_hash, issued_at, signature) VALUES ($1, $2, $3, $4)', [
            early.treeSize,
            Buffer.from(early.rootHash, 'hex'),
            issuedAt,
            signature,
          ]),
        deleteCheckpoint(issuedAt),
        () => expectCaught(early.treeSize, new RegExp(`checkpoint of size ${early.treeSize} issued ${issuedAt}: signature ${what}`)),
      );
    }
  });

  it('a genuine checkpoint row whose issued_at was edited: its signed payload no longer matches', async () => {
    const [row] = await superuserQuery<{ issued_at: Date }>(app.db, 'SELECT issued_at FROM audit_checkpoint WHERE tree_size = $1', [latest.treeSize]);
    await tampered(
      (c) => c.query('UPDATE audit_checkpoint SET issued_at = $1 WHERE tree_size = $2', [new Date(row.issued_at.getTime() - 3_600_000), latest.treeSize]),
      (c) => c.query('UPDATE audit_checkpoint SET issued_at = $1 WHERE tree_size = $2', [row.issued_at, latest.treeSize]),
      () => expectCaught(latest.treeSize, /signed issuedAt .* differs from the row's/),
    );
  });

  function deleteCheckpoint(issuedAt: string): (c: pg.Client) => Promise<unknown> {
    return (c) => c.query('DELETE FROM audit_checkpoint WHERE issued_at = $1', [issuedAt]);
  }
});

/** Puts deleted audit_event rows back exactly as they were. */
async function reinsert(c: pg.Client, rows: Record<string, unknown>[]): Promise<void> {
  for (const r of rows) {
    await c.query(
      `INSERT INTO audit_event (idx, at, action, actor_principal_id, actor_member_id, subject_id, subject_member_id, canonical, leaf_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [r.idx, r.at, r.action, r.actor_principal_id, r.actor_member_id, r.subject_id, r.subject_member_id, r.canonical, r.leaf_hash],
    );
  }
}
