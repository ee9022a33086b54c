import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every setting the service reads, validated once at start-up. A bad value stops start-up with
 * a ConfigError that names the setting and the reason; nothing else reads process.env.
 */
export interface CordonConfig {
  /** HTTP port (PORT, default 3000). */
  port: number;
  /** Interface to listen on (HOST, default 127.0.0.1). */
  host: string;
  /** PostgreSQL URL (DATABASE_URL); undefined means the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  /** Where the embedded PostgreSQL keeps its cluster (CORDON_DATA_DIR, default ./data). */
  dataDir: string;
  /** CORDON_PG_HOME: as root, where the embedded PostgreSQL goes when the postgres user cannot reach dataDir or node_modules. */
  pgHome: string;
  /** Expected `aud` of every bearer token (CORDON_AUDIENCE, default cordon). */
  audience: string;
  /** Public JWK of the first administrator (CORDON_BOOTSTRAP_ADMIN_JWK), parsed JSON. */
  bootstrapAdminJwk?: Record<string, unknown>;
  /** Algorithm of a newly generated exchange signing key (CORDON_EXCHANGE_KEY_ALG). */
  exchangeKeyAlg: 'ES256' | 'EdDSA';
  /** File holding the exchange's private JWK instead of the database (CORDON_EXCHANGE_KEY_FILE). */
  exchangeKeyFile?: string;
  /** 32-byte key that encrypts the exchange private key at rest (CORDON_KEY_ENCRYPTION_KEY[_FILE]). */
  keyEncryptionKey?: Uint8Array;
  /** pino level (LOG_LEVEL, default info). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body accepted, in bytes (CORDON_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** GraphQL abuse limits (CORDON_MAX_QUERY_DEPTH, CORDON_MAX_ALIASES, CORDON_MAX_QUERY_COST). */
  maxQueryDepth: number;
  maxAliases: number;
  maxQueryCost: number;
  /** Connections in the pool of each API process (CORDON_DB_POOL_SIZE). */
  dbPoolSize: number;
  /** Webhook delivery (README "Webhooks"). */
  webhooks: WebhookSettings;
  /** Most live subscriptions one principal may hold in one API process (CORDON_MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Most statements one submitStatements call takes (CORDON_MAX_SUBMIT_BATCH). */
  maxSubmitBatch: number;
  /** GraphQL requests per second one principal may make, per API process; 0 = no limit (CORDON_RATE_LIMIT). */
  rateLimit: number;
  /** Refused sign-ins per minute from one client address before it is throttled; 0 = no limit (CORDON_AUTH_FAILURE_LIMIT). */
  authFailureLimit: number;
  /** Longest a GraphQL request may run before it is answered with TIMEOUT, ms (CORDON_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** API worker processes on this machine sharing the port (CORDON_WORKERS, default 1). */
  workers: number;
  /** Screening's in-process index of listed fingerprints (CORDON_SCREEN_INDEX, on or off; README "Screening in bulk"). */
  screenIndex: boolean;
  /** POST /v1/screen: longest line, most lines and most bytes of one call (CORDON_BULK_MAX_LINE_BYTES, CORDON_BULK_MAX_LINES, CORDON_BULK_MAX_BYTES). */
  bulk: { maxLineBytes: number; maxLines: number; maxBytes: number };
  /** The bearer token GET /metrics requires (CORDON_METRICS_TOKEN); unset: /metrics is off. */
  metricsToken?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`Invalid setting ${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `must be a whole number between ${min} and ${max}, got "${raw}"`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function enumSetting<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw.trim())) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw.trim() as T;
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Never echo the value: it may carry a password.
    throw new ConfigError('DATABASE_URL', 'is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use the postgres:// or postgresql:// scheme, got "${url.protocol}"`);
  }
  if (!url.pathname || url.pathname === '/') {
    throw new ConfigError('DATABASE_URL', 'must name a database (postgres://host:port/<database>)');
  }
  return raw;
}

function bootstrapJwk(env: Env): Record<string, unknown> | undefined {
  const raw = env.CORDON_BOOTSTRAP_ADMIN_JWK?.trim();
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('CORDON_BOOTSTRAP_ADMIN_JWK', 'is not valid JSON (expected a public JWK object)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CORDON_BOOTSTRAP_ADMIN_JWK', 'must be a JSON object (a public JWK)');
  }
  if ('d' in parsed) {
    // The value itself is never logged or echoed.
    throw new ConfigError(
      'CORDON_BOOTSTRAP_ADMIN_JWK',
      'holds a private key (member "d"); give the public JWK only and keep the private key file to yourself',
    );
  }
  return parsed as Record<string, unknown>;
}

function keyEncryptionKey(env: Env): Uint8Array | undefined {
  const inline = env.CORDON_KEY_ENCRYPTION_KEY?.trim();
  const file = env.CORDON_KEY_ENCRYPTION_KEY_FILE?.trim();
  if (inline && file) {
    throw new ConfigError('CORDON_KEY_ENCRYPTION_KEY', 'give either CORDON_KEY_ENCRYPTION_KEY or CORDON_KEY_ENCRYPTION_KEY_FILE, not both');
  }
  let name = 'CORDON_KEY_ENCRYPTION_KEY';
  let text = inline;
  if (file) {
    name = 'CORDON_KEY_ENCRYPTION_KEY_FILE';
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(name, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  if (!text) return undefined;
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) {
    throw new ConfigError(name, 'must be 32 random bytes in base64url (43 characters), e.g. from `cordon secret`');
  }
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

export interface WebhookSettings {
  /** Accept http:// endpoints (development only; CORDON_WEBHOOK_ALLOW_HTTP=true). */
  allowHttp: boolean;
  /** Extra CA certificates (PEM) trusted for webhook endpoints (CORDON_WEBHOOK_CA_FILE). */
  ca: string | undefined;
  /** Longest one delivery may take, ms (CORDON_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** First retry delay after a failure, ms; doubled per consecutive failure (CORDON_WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** Longest retry delay, ms (CORDON_WEBHOOK_RETRY_MAX_MS). */
  retryMaxMs: number;
  /** Consecutive failed attempts after which an endpoint is disabled (CORDON_WEBHOOK_DISABLE_AFTER). */
  disableAfter: number;
  /** How often each process looks for work without being woken, ms (CORDON_WEBHOOK_POLL_MS). */
  pollMs: number;
}

function webhookSettings(env: Env): WebhookSettings {
  const allow = (env.CORDON_WEBHOOK_ALLOW_HTTP ?? '').trim().toLowerCase();
  if (!['', 'true', 'false'].includes(allow)) throw new ConfigError('CORDON_WEBHOOK_ALLOW_HTTP', 'must be true or false');
  const caFile = env.CORDON_WEBHOOK_CA_FILE?.trim();
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError('CORDON_WEBHOOK_CA_FILE', `cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('CORDON_WEBHOOK_CA_FILE', `${caFile} holds no PEM certificate`);
  }
  const retryBaseMs = intSetting(env, 'CORDON_WEBHOOK_RETRY_BASE_MS', 5_000, 1, 86_400_000);
  const retryMaxMs = intSetting(env, 'CORDON_WEBHOOK_RETRY_MAX_MS', 3_600_000, 1, 86_400_000);
  if (retryMaxMs < retryBaseMs) throw new ConfigError('CORDON_WEBHOOK_RETRY_MAX_MS', 'must be at least CORDON_WEBHOOK_RETRY_BASE_MS');
  return {
    allowHttp: allow === 'true',
    ca,
    timeoutMs: intSetting(env, 'CORDON_WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
    retryBaseMs,
    retryMaxMs,
    disableAfter: intSetting(env, 'CORDON_WEBHOOK_DISABLE_AFTER', 20, 1, 10_000),
    pollMs: intSetting(env, 'CORDON_WEBHOOK_POLL_MS', 5_000, 10, 3_600_000),
  };
}

export function loadConfig(env: Env = process.env): CordonConfig {
  const audience = (env.CORDON_AUDIENCE ?? '').trim() || 'cordon';
  if (audience.length > 256) throw new ConfigError('CORDON_AUDIENCE', 'must be at most 256 characters');
  const host = (env.HOST ?? '').trim() || '127.0.0.1';
  const dataDir = path.resolve((env.CORDON_DATA_DIR ?? '').trim() || './data');
  const exchangeKeyFile = env.CORDON_EXCHANGE_KEY_FILE?.trim() || undefined;
  return {
    port: intSetting(env, 'PORT', 3000, 0, 65535),
    host,
    databaseUrl: databaseUrl(env),
    dataDir,
    pgHome: path.resolve((env.CORDON_PG_HOME ?? '').trim() || '/var/lib/cordon'),
    audience,
    bootstrapAdminJwk: bootstrapJwk(env),
    exchangeKeyAlg: enumSetting(env, 'CORDON_EXCHANGE_KEY_ALG', ['ES256', 'EdDSA'] as const, 'EdDSA'),
    exchangeKeyFile: exchangeKeyFile ? path.resolve(exchangeKeyFile) : undefined,
    keyEncryptionKey: keyEncryptionKey(env),
    logLevel: enumSetting(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    maxBodyBytes: intSetting(env, 'CORDON_MAX_BODY_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxQueryDepth: intSetting(env, 'CORDON_MAX_QUERY_DEPTH', 8, 2, 100),
    maxAliases: intSetting(env, 'CORDON_MAX_ALIASES', 15, 1, 1000),
    maxQueryCost: intSetting(env, 'CORDON_MAX_QUERY_COST', 5000, 10, 1_000_000),
    dbPoolSize: intSetting(env, 'CORDON_DB_POOL_SIZE', 10, 1, 500),
    maxSubmitBatch: intSetting(env, 'CORDON_MAX_SUBMIT_BATCH', 10_000, 1, 100_000),
    maxSubscriptions: intSetting(env, 'CORDON_MAX_SUBSCRIPTIONS', 10, 1, 10_000),
    webhooks: webhookSettings(env),
    rateLimit: intSetting(env, 'CORDON_RATE_LIMIT', 1000, 0, 1_000_000),
    authFailureLimit: intSetting(env, 'CORDON_AUTH_FAILURE_LIMIT', 60, 0, 1_000_000),
    requestTimeoutMs: intSetting(env, 'CORDON_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    workers: intSetting(env, 'CORDON_WORKERS', 1, 1, 64),
    screenIndex: enumSetting(env, 'CORDON_SCREEN_INDEX', ['on', 'off'] as const, 'on') === 'on',
    bulk: {
      maxLineBytes: intSetting(env, 'CORDON_BULK_MAX_LINE_BYTES', 8192, 256, 1024 * 1024),
      maxLines: intSetting(env, 'CORDON_BULK_MAX_LINES', 100_000_000, 1, 1_000_000_000),
      maxBytes: intSetting(env, 'CORDON_BULK_MAX_BYTES', 16 * 1024 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    },
    metricsToken: metricsToken(env),
  };
}

/** CORDON_METRICS_TOKEN: a secret of at least 32 printable characters (never echoed). */
function metricsToken(env: Env): string | undefined {
  const token = env.CORDON_METRICS_TOKEN?.trim();
  if (!token) return undefined;
  if (token.length < 32 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('CORDON_METRICS_TOKEN', 'must be at least 32 printable ASCII characters without spaces (e.g. `cordon secret` makes one)');
  }
  return token;
}
