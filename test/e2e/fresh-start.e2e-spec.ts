import { execFile, execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/child-server.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');


/**
 * The README's two commands on a fresh copy of this checkout under a private home directory
 * (0700, as /root is in a container), as root: PostgreSQL runs as the `postgres` user, who cannot
 * reach the binaries in node_modules nor ./data there. Only as root (where the case arises).
 */
const asRoot = process.getuid?.() === 0;

describe('a fresh clone under a private (0700) home directory, as root', () => {
  (asRoot ? it : it.skip)(
    '`npm ci && npm start` runs on the embedded PostgreSQL and /health answers; the log says where the cluster is',
    async () => {
      const home = await fs.mkdtemp(path.join(os.tmpdir(), 'cordon-home-'));
      await fs.chmod(home, 0o700);
      // Where the cluster's binaries and data go (the default is /var/lib/cordon); removed afterwards.
      const pgHome = await fs.mkdtemp(path.join(os.tmpdir(), 'cordon-pg-home-'));
      await fs.chmod(pgHome, 0o755);
      const clone = path.join(home, 'cordon');
      let child: ReturnType<typeof spawn> | undefined;
      try {
        // The working tree's files (tracked and new, not ignored), as a clone of this change has them.
        const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
        for (const file of files) {
          const from = path.join(ROOT, file);
          if (!(await fs.stat(from).then((s) => s.isFile(), () => false))) continue;
          await fs.mkdir(path.dirname(path.join(clone, file)), { recursive: true });
          await fs.copyFile(from, path.join(clone, file));
        }
        await fs.chmod(path.join(clone, '.ci/run'), 0o755).catch(() => undefined);
        await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, timeout: 300_000, maxBuffer: 64 << 20 });

        /** `npm start` (or the built server directly), as a user runs it, until /health answers. */
        const start = async (command: string[], extraEnv: Record<string, string>) => {
          const port = await freePort();
          let output = '';
          const proc = spawn(command[0], command.slice(1), {
            cwd: clone,
            detached: true,
            env: { PATH: process.env.PATH ?? '', HOME: home, PORT: String(port), LOG_LEVEL: 'info', ...extraEnv },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          child = proc;
          proc.stdout!.on('data', (d) => (output += d));
          proc.stderr!.on('data', (d) => (output += d));
          const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
          let health: { status: number; body: unknown } | undefined;
          for (let i = 0; i < 1800 && !health; i++) {
            if (proc.exitCode !== null) break;
            const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
            if (res) health = { status: res.status, body: await res.json() };
            else await new Promise((r) => setTimeout(r, 100));
          }
          expect({ health, output: health ? '' : output.slice(-3000) }).toEqual({ health: { status: 200, body: { status: 'ok' } }, output: '' });
          const jwks = await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json();
          // Stopped as Ctrl-C would: the whole process group gets SIGTERM; the server stops PostgreSQL.
          const stop = async () => {
            process.kill(-proc.pid!, 'SIGTERM');
            await exited;
            const groupAlive = () => {
              try {
                process.kill(-proc.pid!, 0);
                return true;
              } catch {
                return false;
              }
            };
            for (let i = 0; i < 600 && groupAlive(); i++) await new Promise((r) => setTimeout(r, 100));
            expect(groupAlive()).toBe(false);
            child = undefined;
            return output;
          };
          return { jwks, stop, output: () => output };
        };

        const first = await start(['npm', 'start'], { CORDON_PG_HOME: pgHome });
        // The log names where PostgreSQL's binaries and cluster are kept, and why.
        expect(first.output()).toMatch(/cannot reach/);
        expect(first.output()).toContain(pgHome);
        // ./data keeps the credentials and the lock; the cluster lives where the postgres user can reach it.
        const dataDir = path.join(clone, 'data');
        const cluster = JSON.parse(await fs.readFile(path.join(dataDir, 'cluster.json'), 'utf8')) as { clusterDir: string; binaries: string };
        expect(cluster.clusterDir.startsWith(pgHome)).toBe(true);
        expect(await fs.stat(path.join(cluster.clusterDir, 'PG_VERSION')).then(() => true)).toBe(true);
        const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
        expect((await fs.stat(cluster.clusterDir)).uid).toBe(postgresUid);
        const firstLog = await first.stop();
        expect(firstLog).toMatch(/embedded PostgreSQL stopped/);
        expect(await fs.stat(path.join(cluster.clusterDir, 'postmaster.pid')).then(() => true, () => false)).toBe(false);

        // Started again — even with CORDON_PG_HOME pointing elsewhere — it opens the same cluster
        // (the one cluster.json names): no new initdb, the same exchange key, nothing lost.
        const elsewhere = path.join(pgHome, 'elsewhere');
        const second = await start([process.execPath, 'dist/apps/api/src/main.js'], { CORDON_PG_HOME: elsewhere });
        expect(second.jwks).toEqual(first.jwks);
        const secondLog = await second.stop();
        expect(secondLog).not.toMatch(/initialising embedded PostgreSQL/);
        expect(secondLog).toContain(cluster.clusterDir);
      } finally {
        if (child?.pid) process.kill(-child.pid, 'SIGKILL');
        await fs.rm(home, { recursive: true, force: true });
        await fs.rm(pgHome, { recursive: true, force: true });
      }
    },
    900_000,
  );
});
