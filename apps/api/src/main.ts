import { ConfigError, loadConfig } from '@app/config';
import { EmbeddedDatabaseError } from '@app/database';
import { startServer } from './server.js';

/** `npm start`: validate settings, start (embedded) PostgreSQL, migrate, serve; stop cleanly on a signal. */
async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
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
