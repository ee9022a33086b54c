import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Structured JSON logs. Authorization headers, tokens, private keys and URLs of reported sites
 * never reach a log line: request bodies and variables are not logged at all, and these paths
 * are redacted wherever they appear.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions<never> = {
    level,
    base: { service: 'cordon' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      // A failed query carries its SQL text and parameters (statements' JWS, reported sites'
      // URLs, screened values): only the error's name, message, code and stack are logged.
      err: serializeError,
      // Only the path: a GET query string could carry GraphQL variables (screened values, URLs).
      req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: req.url?.split('?')[0],
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        'jws',
        'privateJwk',
        'd',
        'url',
        'sites',
        'password',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** An error without what it may carry from its query (TypeORM's query/parameters, pg's where/detail). */
export function serializeError(err: unknown): Record<string, unknown> | unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; driverError?: { code?: unknown } };
  const code = e.code ?? e.driverError?.code;
  // PostgreSQL quotes offending values after ': "' (invalid input syntax for type uuid: "…").
  const message = e.driverError ? e.message.split(': "')[0] : e.message;
  // The stack's first line repeats the message: keep only the frames.
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return { type: e.name, message: message.slice(0, 1000), ...(code !== undefined ? { code } : {}), stack: frames.join('\n') };
}

/** Nest's own messages (module init, routes) through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
