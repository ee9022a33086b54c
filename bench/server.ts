import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSigningKey, type PrivateJwk, signBearerToken } from '@app/signing';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The node flags `npm start` runs the server with (package.json), so the bench measures the same. */
const START_FLAGS = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start as string)
  .split(/\s+/)
  .filter((arg) => arg.startsWith('--'));

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A build of the service to measure: this checkout's, or (BENCH_BASELINE=<another checkout, built>)
 * a baseline's, e.g. the commit before a change, so both are measured in the same run:
 *   git worktree add ../baseline <commit> && (cd ../baseline && npm ci && npm run build)
 *   BENCH_BASELINE=../baseline npm run bench screening ingest
 */
export interface Build {
  name: 'current' | 'baseline';
  /** the checkout whose dist/ runs */
  root: string;
}
export const CURRENT: Build = { name: 'current', root: ROOT };
/** The builds to measure: the baseline (if BENCH_BASELINE names one) first, then this checkout's. */
export function benchBuilds(): Build[] {
  const baseline = process.env.BENCH_BASELINE;
  return baseline ? [{ name: 'baseline', root: path.resolve(baseline) }, CURRENT] : [CURRENT];
}

export interface BenchServer {
  url: string;
  build: Build;
  /** the bootstrap admin's key pair (to start another server on the same database) */
  adminKeys: Awaited<ReturnType<typeof generateSigningKey>>;
  /** the server process, for its memory (/proc/<pid>/status) */
  pid: number;
  dbUrl: string;
  admin: PrivateJwk;
  /** POST /graphql signed by `key` (the bootstrap admin by default); throws on errors. */
  gql(query: string, variables?: unknown, key?: PrivateJwk): Promise<any>;
  /**
   * Stops the process and starts another on the same database (`env` added to the first's): after
   * a seed written by SQL behind the service's back, which a running process's screening index
   * does not follow (it follows the change feed). Changes `url` and `pid`.
   */
  restart(env?: Record<string, string>): Promise<void>;
  /** Seconds until the process's screening index is built (its cordon_screen_index_ready gauge). */
  indexReady(): Promise<number>;
  stop(): Promise<void>;
}

/** The bench servers' CORDON_METRICS_TOKEN (GET /metrics needs it). */
const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef0123456789';

/** A gauge or counter of a server's /metrics (NaN when absent). */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

/**
 * The compiled server in its own process on a fresh database, with a bootstrap admin.
 * BENCH_SERVER_NODE_ARGS passes node flags (e.g. --cpu-prof) to the server.
 */
export async function startBenchServer(
  extraEnv: Record<string, string> = {},
  shared?: { dbUrl: string; admin: Awaited<ReturnType<typeof generateSigningKey>> },
  build: Build = CURRENT,
): Promise<BenchServer> {
  // A fresh database, or (shared) another server on the database of a running one.
  const dbName = shared ? undefined : `cordon_bench_${randomBytes(4).toString('hex')}`;
  if (dbName) await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const db = new URL(shared?.dbUrl ?? ADMIN_URL);
  if (dbName) db.pathname = `/${dbName}`;
  const admin = shared?.admin ?? (await generateSigningKey('ES256'));
  const dropDatabase = async () => {
    if (dbName) await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  };
  let child: SpawnedServer;
  const env = {
    DATABASE_URL: db.toString(),
    CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk),
    LOG_LEVEL: 'warn',
    // One principal drives thousands of requests a second here on purpose.
    CORDON_RATE_LIMIT: '0',
    CORDON_AUTH_FAILURE_LIMIT: '0',
    CORDON_METRICS_TOKEN: BENCH_METRICS_TOKEN,
    ...extraEnv,
  };
  const launch = (more: Record<string, string> = {}) => spawnServer(path.join(build.root, 'dist/apps/api/src/main.js'), '/health', { ...env, ...more });
  try {
    child = await launch();
  } catch (err) {
    await dropDatabase();
    throw err;
  }
  const stop = async () => {
    await child.stop();
    await dropDatabase();
  };
  const started = { at: process.hrtime.bigint() };
  const server: BenchServer = {
    url: child.url,
    build,
    pid: child.pid,
    async restart(more) {
      await child.stop();
      started.at = process.hrtime.bigint();
      child = await launch(more);
      server.url = child.url;
      server.pid = child.pid;
    },
    async indexReady() {
      for (let i = 0; ; i++) {
        const ready = await metric(server.url, 'cordon_screen_index_ready');
        if (ready === 1 || Number.isNaN(ready)) break; // NaN: a build without the index
        if (i > 36_000) throw new Error('the screening index was not built in an hour');
        await new Promise((r) => setTimeout(r, 100));
      }
      return Number(process.hrtime.bigint() - started.at) / 1e9;
    },
    adminKeys: admin,
    dbUrl: db.toString(),
    admin: admin.privateJwk,
    async gql(query, variables = {}, key = admin.privateJwk) {
      const token = await signBearerToken(key, { audience: 'cordon', lifetimeSeconds: 300 });
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
      return body.data;
    },
    stop,
  };
  return server;
}

export interface SpawnedServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A compiled server script (relative to the project root, or absolute) in its own process on a free port
 * (PORT), with the flags `npm start` gives the service and BENCH_SERVER_NODE_ARGS (e.g.
 * --cpu-prof); resolves once `readyPath` answers 2xx.
 */
export async function spawnServer(script: string, readyPath: string, env: Record<string, string>): Promise<SpawnedServer> {
  // A port the system just handed out and took back can still be taken by someone else before
  // the child binds it (these runs open thousands of client connections): then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnPort(script, readyPath, env, await freePort());
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function spawnOnPort(script: string, readyPath: string, env: Record<string, string>, port: number): Promise<SpawnedServer> {
  const url = `http://127.0.0.1:${port}`;
  const nodeArgs = [...START_FLAGS, ...(process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [])];
  const child = spawn(process.execPath, [...nodeArgs, path.resolve(ROOT, script)], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`${script} exited`);
      if (await fetch(`${url}${readyPath}`).then((r) => r.ok, () => false)) break;
      if (i > 600) throw new Error(`${script} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}

/** Resident memory of a process in MiB (Linux), or NaN elsewhere. */
export async function residentMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) / 1024 : Number.NaN;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; 0 if it is gone. */
async function processCpuSeconds(pid: string | number): Promise<{ comm: string; seconds: number }> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const close = stat.lastIndexOf(')');
  if (close < 0) return { comm: '', seconds: 0 };
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15, in clock ticks (USER_HZ = 100 on Linux).
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

export interface CpuReading {
  /** the API server process */
  server: number;
  /** every PostgreSQL process of this machine (the bench's databases are the only busy ones) */
  postgres: number;
}

/** CPU seconds used so far by the server process and by PostgreSQL (a reading to subtract from a later one). */
export async function cpuReading(serverPid: number): Promise<CpuReading> {
  const { readdir } = await import('node:fs/promises');
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  let postgres = 0;
  for (const pid of pids) {
    const p = await processCpuSeconds(pid);
    if (p.comm === 'postgres') postgres += p.seconds;
  }
  return { server: (await processCpuSeconds(serverPid)).seconds, postgres };
}

/** CPU seconds used between two readings. */
export const cpuUsed = (from: CpuReading, to: CpuReading): CpuReading => ({ server: to.server - from.server, postgres: Math.max(0, to.postgres - from.postgres) });
