import 'reflect-metadata';
import { hash } from 'node:crypto';
import { useSha256 } from '@app/canonical';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { CordonConfig } from '@app/config';
import { createDataSource, EmbeddedDatabase, migrate } from '@app/database';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type DocumentNode, Kind, OperationTypeNode, parse } from 'graphql';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import type { Clock } from './common/clock.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { InFlight } from './common/in-flight.js';
import { InputValidationPipe } from './common/input-validation.pipe.js';
import { createLogger, PinoNestLogger } from './common/logger.js';
import { ENTITIES } from './entities.js';
import { BULK_PATH, BulkScreen } from './modules/screening/bulk-screen.js';
import { MAX_TOKENS } from './graphql/pipeline.js';

export interface CordonServer {
  app: NestFastifyApplication;
  dataSource: DataSource;
  /** http://host:port of the listening server */
  url: string;
  logger: Logger;
  close(): Promise<void>;
}

export interface ServerOptions {
  logger?: Logger;
  clock?: Clock;
}

/** Opens the database (embedded when DATABASE_URL is unset), migrates it, and returns a data source. */
export async function openDatabase(
  config: CordonConfig,
  logger: Logger,
): Promise<{ dataSource: DataSource; url: string; close(): Promise<void> }> {
  const embedded = config.databaseUrl ? undefined : new EmbeddedDatabase({ dataDir: config.dataDir, pgHome: config.pgHome, log: (m, x) => logger.info(x ?? {}, m) });
  try {
    const url = config.databaseUrl ?? (await embedded!.start());
    const dataSource = createDataSource({ url, entities: ENTITIES, poolSize: config.dbPoolSize });
    await dataSource.initialize();
    try {
      const applied = await migrate(dataSource);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    } catch (err) {
      await dataSource.destroy();
      throw err;
    }
    return {
      dataSource,
      url,
      async close() {
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
}

// Native SHA-256 for fingerprints on the server's hot paths (the library defaults to a portable one);
// the one-shot crypto.hash is ~2.8 times faster than createHash for short inputs.
useSha256((text) => hash('sha256', text, 'hex'));

/**
 * Subscriptions run over graphql-ws only: a document with a subscription operation sent to POST
 * /graphql is answered 400 BAD_REQUEST before Apollo sees it (graphql-js's validation would
 * otherwise throw on some of them, an internal error, before the caller is even authenticated).
 */
async function refuseSubscriptionsOverHttp(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const query = (request.body as { query?: unknown } | undefined)?.query;
  if (request.method !== 'POST' || typeof query !== 'string' || !query.includes('subscription')) return;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS });
  } catch {
    return; // Apollo answers the syntax error
  }
  if (!document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.SUBSCRIPTION)) return;
  await reply
    .code(400)
    .header('content-type', 'application/json')
    .send({ errors: [{ message: 'subscriptions run over graphql-ws (the same path, protocol graphql-transport-ws), not over HTTP', extensions: { code: 'BAD_REQUEST' } }] });
}

/**
 * CORDON_REQUEST_TIMEOUT_MS, as Node's requestTimeout would keep it, per request: a client must
 * have sent its whole request within it (408 and the connection closed otherwise) — except a bulk
 * screening call (POST /v1/screen), whose body is read only as fast as its answers are taken: its
 * call must never stand still that long instead (BulkScreen).
 */
function bodyDeadline(ms: number) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const raw = request.raw;
    if (raw.complete) return;
    const expire = () => {
      if (raw.complete) return;
      if (!reply.sent && !reply.raw.headersSent) reply.raw.writeHead(408, { connection: 'close', 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'the request was not received in time (CORDON_REQUEST_TIMEOUT_MS)', extensions: { code: 'TIMEOUT' } }] }));
      raw.socket?.destroySoon();
    };
    if (request.method === 'POST' && request.url.split('?')[0] === BULK_PATH) return; // its own deadline (bulk-screen.ts)
    const timer = setTimeout(expire, ms);
    const done = () => clearTimeout(timer);
    raw.once('end', done);
    raw.once('close', done);
    reply.raw.once('finish', done);
    reply.raw.once('close', done);
  };
}

/** Starts the whole service and listens; `close()` stops it in order (HTTP, pool, database). */
export async function startServer(config: CordonConfig, options: ServerOptions = {}): Promise<CordonServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  let app: NestFastifyApplication | undefined;
  try {
    // requestTimeout is kept per route below (a bulk screening body may take far longer to read).
    const adapter = new FastifyAdapter({ loggerInstance: logger, bodyLimit: config.maxBodyBytes, requestTimeout: 0 });
    const inFlight = new InFlight();
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.register({ config, dataSource: db.dataSource, logger, clock: options.clock, inFlight }),
      adapter,
      { logger: new PinoNestLogger(logger), abortOnError: false },
    );
    app.useGlobalPipes(new InputValidationPipe());
    app.useGlobalFilters(new HttpErrorFilter(logger, config.maxBodyBytes));
    adapter.getInstance().addHook('preHandler', refuseSubscriptionsOverHttp);
    adapter.getInstance().addHook('onRequest', bodyDeadline(config.requestTimeoutMs));
    app.get(BulkScreen).register(adapter.getInstance());
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info({ url }, 'Cordon is listening');
    const started = app;
    return {
      app: started,
      dataSource: db.dataSource,
      url,
      logger,
      async close() {
        await started.close();
        // Operations whose clients hung up may still run (the HTTP server did not wait for them):
        // they finish — writes and audit events included — before the pool closes, for at most
        // CORDON_REQUEST_TIMEOUT_MS.
        if (inFlight.size > 0) {
          logger.info({ inFlight: inFlight.size }, 'waiting for operations in flight before closing the database');
          if (!(await inFlight.idle(config.requestTimeoutMs))) logger.warn({ inFlight: inFlight.size }, 'closing the database with operations still running');
        }
        await db.close();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
