import { loadConfig } from '@app/config';
import { createLogger } from './common/logger.js';
import { openDatabase } from './server.js';

/** `npm run migrate`: apply pending migrations (the server also does this at start-up). */
const config = loadConfig();
const logger = createLogger(config.logLevel);
try {
  const db = await openDatabase(config, logger);
  await db.close();
  logger.info('migrations up to date');
} catch (err) {
  process.stderr.write(`migration failed: ${(err as Error).message}\n`);
  process.exit(1);
}
