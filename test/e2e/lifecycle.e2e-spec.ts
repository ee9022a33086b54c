import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '@app/config';
import { EmbeddedDatabase, EmbeddedDatabaseError } from '@app/database';
import { pino } from 'pino';
import { startServer } from '../../apps/api/src/server.js';
import { createTestDatabase, superuserQuery } from '../support/database.js';
import { newKey } from '../support/keys.js';
import { post, startTestApp } from '../support/server.js';
import { tokenFor } from '../support/keys.js';

const silent = pino({ level: 'silent' });
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cordon-data-'));
}

describe('restart', () => {
  it('keeps members, principals, keys and the exchange key, and bootstraps only once', async () => {
    const app = await startTestApp();
    try {
      const created = await app.gql('mutation { createMember(input: { name: "Persisted Exchange", kind: CRYPTO_EXCHANGE }) { id } }');
      const jwksBefore = await (await fetch(`${app.url}/.well-known/jwks.json`)).json();
      const other = await newKey();
      await app.restart({ CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(other.publicJwk) });

      const me = await app.gql('{ me { id member { name } } }');
      expect(me.data!.me).toEqual({ id: app.adminId, member: { name: 'Coalition Secretariat' } });
      const member = await app.gql('query($id: ID!) { member(id: $id) { name kind } }', { id: created.data!.createMember.id });
      expect(member.data!.member).toEqual({ name: 'Persisted Exchange', kind: 'CRYPTO_EXCHANGE' });
      expect(await (await fetch(`${app.url}/.well-known/jwks.json`)).json()).toEqual(jwksBefore);

      // The second bootstrap key was ignored: it authenticates nothing.
      const refused = await app.gql('{ me { id } }', {}, other);
      expect(refused.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const [{ n }] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'bootstrap'`);
      expect(n).toBe(1);
      const [{ p }] = await superuserQuery<{ p: number }>(app.db, `SELECT count(*)::int AS p FROM principal`);
      expect(p).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it('seals the exchange key with CORDON_KEY_ENCRYPTION_KEY and refuses to start without it', async () => {
    const kek = Buffer.alloc(32, 7).toString('base64url');
    const app = await startTestApp({ CORDON_KEY_ENCRYPTION_KEY: kek });
    try {
      const [row] = await superuserQuery<{ private_jwk: string; sealed: boolean }>(app.db, 'SELECT private_jwk, sealed FROM exchange_key');
      expect(row.sealed).toBe(true);
      expect(row.private_jwk.split('.')).toHaveLength(5);
      expect(row.private_jwk).not.toContain('"d"');
      await app.server.close();
      const config = loadConfig({ PORT: '0', DATABASE_URL: app.db.url });
      await expect(startServer(config, { logger: silent })).rejects.toThrow(ConfigError);
      await expect(startServer(config, { logger: silent })).rejects.toThrow(/CORDON_KEY_ENCRYPTION_KEY/);
    } finally {
      await app.db.drop();
    }
  });

  it('refuses to start with an invalid bootstrap JWK, naming the setting', async () => {
    const db = await createTestDatabase();
    try {
      const config = loadConfig({ PORT: '0', DATABASE_URL: db.url, CORDON_BOOTSTRAP_ADMIN_JWK: '{"kty":"RSA","n":"x","e":"AQAB"}' });
      await expect(startServer(config, { logger: silent })).rejects.toThrow(/CORDON_BOOTSTRAP_ADMIN_JWK.*kty/);
    } finally {
      await db.drop();
    }
  });
});

describe('embedded PostgreSQL', () => {
  it('initialises an empty data directory, then reuses it on the next start', async () => {
    const dataDir = tempDir();
    const admin = await newKey();
    const env = { PORT: '0', CORDON_DATA_DIR: dataDir, CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk) };
    try {
      let server = await startServer(loadConfig(env), { logger: silent });
      expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const created = await post(
        server.url,
        { query: 'mutation { createMember(input: { name: "Embedded Member", kind: CARD_PROCESSOR }) { id } }' },
        await tokenFor(admin),
      );
      expect(created.errors).toBeUndefined();
      await server.close();
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
      expect(existsSync(path.join(dataDir, 'cordon.lock'))).toBe(false);

      server = await startServer(loadConfig(env), { logger: silent });
      const members = await post(server.url, { query: '{ members { name } }' }, await tokenFor(admin));
      expect(members.data!.members.map((m: { name: string }) => m.name)).toEqual(['Coalition Secretariat', 'Embedded Member']);
      // `cordon audit verify` finds the running embedded database itself (port and generated
      // credentials from the data directory), run from anywhere, no URL guessed.
      const verify = () =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/main.js'), 'audit', 'verify'], { cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '', CORDON_DATA_DIR: dataDir } }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
          );
        });
      const verified = await verify();
      expect(verified).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log verified: \d+ events/) });
      await server.close();
      const stopped = await verify();
      expect(stopped.code).toBe(2);
      expect(stopped.stderr).toMatch(/the embedded PostgreSQL of .* is not running .*: start the service \(npm start\), or pass --database-url/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('gives a clear error when another live process holds the data directory', async () => {
    const dataDir = tempDir();
    const first = new EmbeddedDatabase({ dataDir });
    try {
      await first.start();
      // Another process owns it: pretend the lock was written by our parent.
      writeFileSync(path.join(dataDir, 'cordon.lock'), JSON.stringify({ pid: process.ppid }));
      const second = new EmbeddedDatabase({ dataDir });
      await expect(second.start()).rejects.toThrow(EmbeddedDatabaseError);
      await expect(second.start()).rejects.toThrow(/CORDON_DATA_DIR .* is in use by another running Cordon process/);
      writeFileSync(path.join(dataDir, 'cordon.lock'), JSON.stringify({ pid: process.pid }));
    } finally {
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('recovers a cluster left running by an owner that died (kill -9)', async () => {
    const dataDir = tempDir();
    const crashed = new EmbeddedDatabase({ dataDir });
    try {
      await crashed.start();
      const postmasterPid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      // The owner is gone: a lock naming a pid that does not exist.
      writeFileSync(path.join(dataDir, 'cordon.lock'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
      const next = new EmbeddedDatabase({ dataDir });
      const url = await next.start();
      expect(url).toMatch(/^postgres:\/\/cordon:/);
      const newPid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(newPid).not.toBe(postmasterPid);
      await next.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm start (the compiled server as a process)', () => {
  function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    let out = '';
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/api/src/main.js')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => out, exited };
  }

  async function waitFor(check: () => boolean, ms = 30000): Promise<void> {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('stops cleanly on SIGTERM; a second process on the same data directory is refused clearly', async () => {
    const dataDir = tempDir();
    try {
      const first = startProcess({ PORT: '0', CORDON_DATA_DIR: dataDir });
      await waitFor(() => first.output().includes('Cordon is listening'));
      const second = startProcess({ PORT: '0', CORDON_DATA_DIR: dataDir });
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/is in use by another running Cordon process/);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('embedded PostgreSQL stopped');
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
      expect(existsSync(path.join(dataDir, 'cordon.lock'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad setting at start, naming it', async () => {
    const proc = startProcess({ PORT: 'eighty' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain('Invalid setting PORT');
  });
});
