import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

/** `cordon audit monitor` as a member runs it on a schedule: exit code and output. */
async function monitor(app: TestApp, keyFile: string, state: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'audit', 'monitor', '--state', state, '--key', keyFile, '--url', app.url], {
      env: { PATH: process.env.PATH ?? '', CORDON_AUDIENCE: app.config.audience },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('cordon audit monitor (compiled CLI)', () => {
  let app: TestApp;
  let dir: string;
  let keyFile: string;
  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-monitor-'));
    const member = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    keyFile = path.join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(member.key.privateJwk));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const grow = (n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => app.gql(`mutation { createMember(input: { name: "m-${Date.now()}-${i}", kind: CARD_PROCESSOR }) { id } }`)));

  it('records the first checkpoint, then accepts a log that grew consistently', async () => {
    const state = path.join(dir, 'ok.json');
    const first = await monitor(app, keyFile, state);
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toMatch(/first checkpoint recorded: \d+ events/);
    const size = JSON.parse(readFileSync(state, 'utf8')).treeSize as number;
    await grow(5);
    const second = await monitor(app, keyFile, state);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(new RegExp(`grew consistently from ${size} to \\d+ events`));
    expect(JSON.parse(readFileSync(state, 'utf8')).treeSize).toBeGreaterThan(size);
  });

  it('fails loudly when the log shrank or shows another root at a size it saw', async () => {
    const state = path.join(dir, 'tamper.json');
    expect((await monitor(app, keyFile, state)).code).toBe(0);
    const seen = JSON.parse(readFileSync(state, 'utf8'));

    writeFileSync(state, JSON.stringify({ ...seen, treeSize: seen.treeSize + 1000 }));
    const shrank = await monitor(app, keyFile, state);
    expect(shrank.code).toBe(1);
    expect(shrank.out).toMatch(/SHRANK/);

    await grow(1);
    writeFileSync(state, JSON.stringify({ ...seen, rootHash: 'ab'.repeat(32) }));
    const forked = await monitor(app, keyFile, state);
    expect(forked.code).toBe(1);
    expect(forked.out).toMatch(/FORKED: no valid consistency proof/);
    // the state did not move forward; the conflicting checkpoints are kept as evidence
    expect(JSON.parse(readFileSync(state, 'utf8')).rootHash).toBe('ab'.repeat(32));
    expect(JSON.parse(readFileSync(`${state}.evidence.json`, 'utf8')).now.treeSize).toBeGreaterThan(seen.treeSize);
  });

  it('catches a tree rewritten behind the service’s back (its stored right edge changed by the superuser)', async () => {
    const state = path.join(dir, 'rewrite.json');
    await grow(8);
    expect((await monitor(app, keyFile, state)).code).toBe(0);
    // The operator rewrites the log's past as the database superuser, triggers bypassed.
    const client = new Client({ connectionString: app.db.url });
    await client.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query(`UPDATE audit_tree SET frontier = sha256(substring(frontier from 1 for 32)) || substring(frontier from 33)`);
    } finally {
      await client.end();
    }
    await grow(3);
    const after = await monitor(app, keyFile, state);
    expect(after.code).toBe(1);
    expect(after.out).toMatch(/FORKED/);
  });
});
