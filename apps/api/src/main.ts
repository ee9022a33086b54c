import './common/production-mode.js';
import cluster from 'node:cluster';
import { ConfigError, type CordonConfig, loadConfig } from '@app/config';
import { EmbeddedDatabaseError } from '@app/database';
import type { Logger } from 'pino';
import { createLogger } from './common/logger.js';
import { openDatabase, startServer } from './server.js';

/** Stops on SIGINT/SIGTERM with `stop`; a second signal exits at once. */
function onSignals(logger: Pick<Logger, 'info' | 'warn' | 'error'>, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handle('SIGINT'));
  process.on('SIGTERM', () => handle('SIGTERM'));
}

/**
 * CORDON_WORKERS > 1: this primary opens the database once (starting the embedded PostgreSQL
 * when DATABASE_URL is unset, and migrating), then forks the API processes, which share the
 * port (Node's cluster) and the database. A worker that dies is replaced; on SIGTERM the
 * workers stop first (each finishes its requests), then the embedded database.
 */
async function primary(config: CordonConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  await db.dataSource.destroy(); // the primary serves nothing; the embedded cluster keeps running
  let stopping = false;
  const fork = () => cluster.fork({ DATABASE_URL: db.url });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'API worker died: starting another');
    fork();
  });
  for (let i = 0; i < config.workers; i++) fork();
  logger.info({ workers: config.workers }, 'API workers starting');
  onSignals(logger, async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
    await db.close();
  });
}

/** `npm start`: validate settings, start (embedded) PostgreSQL, migrate, serve; stop cleanly on a signal. */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) return primary(config);
  const server = await startServer(config);
  onSignals(server.logger, () => server.close());
}

main().catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof EmbeddedDatabaseError;
  const line = {
    level: 'fatal',
    time: new Date().toISOString(),
    msg: known ? (err as Error).message : 'Cordon could not start',
    ...(err instanceof ConfigError ? { setting: err.setting } : {}),
    ...(known ? {} : { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }),
  };
  process.stderr.write(JSON.stringify(line) + '\n');
  process.exit(1);
});
