import { type CordonConfig, loadConfig } from '@app/config';
import { type Logger, pino } from 'pino';
import { startServer, type CordonServer } from '../../apps/api/src/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { newKey, type TestKey, tokenFor } from './keys.js';
import { METRICS_TOKEN } from './metrics.js';

export interface GraphqlResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string } }[];
}

export interface TestApp {
  server: CordonServer;
  db: TestDatabase;
  config: CordonConfig;
  url: string;
  admin: TestKey;
  adminId: string;
  /** POST /graphql with a bearer token signed by `key` (or the raw token / no header). */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, auth?: TestKey | string | null): Promise<GraphqlResponse<T>>;
  stop(): Promise<void>;
  restart(env?: Record<string, string>): Promise<void>;
}

export async function post(url: string, body: unknown, token?: string): Promise<GraphqlResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Omit<GraphqlResponse, 'status'>;
  return { status: response.status, ...json };
}

/**
 * A real server on a fresh database of the local PostgreSQL, listening on a free port, with a
 * bootstrap administrator whose key the test holds.
 */
export async function startTestApp(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const admin = await newKey('ES256');
  const makeConfig = (extra: Record<string, string>) =>
    loadConfig({
      PORT: '0',
      DATABASE_URL: db.url,
      CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk),
      CORDON_DB_POOL_SIZE: '4',
      // Suites send many refused tokens and bursts of requests on purpose; the limits have their own tests.
      CORDON_RATE_LIMIT: '100000',
      CORDON_AUTH_FAILURE_LIMIT: '100000',
      CORDON_METRICS_TOKEN: METRICS_TOKEN,
      ...env,
      ...extra,
    });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let config = makeConfig({});
  let server = await startServer(config, { logger });
  const app: TestApp = {
    server,
    db,
    config,
    url: server.url,
    admin,
    adminId: '',
    async gql(query, variables = {}, auth = admin) {
      const token = auth === null ? undefined : typeof auth === 'string' ? auth : await tokenFor(auth, { audience: config.audience });
      return post(app.url, { query, variables }, token) as Promise<GraphqlResponse<any>>;
    },
    async stop() {
      await server.close();
      await db.drop();
    },
    async restart(extra = {}) {
      await server.close();
      config = makeConfig(extra);
      server = await startServer(config, { logger });
      app.server = server;
      app.config = config;
      app.url = server.url;
    },
  };
  const me = await app.gql<{ me: { id: string } }>('{ me { id } }');
  app.adminId = me.data!.me.id;
  return app;
}

/** Adds categories to the vocabulary as the bootstrap admin (a CURATOR): statements may then carry them. */
export async function addCategories(app: TestApp, names: string[]): Promise<void> {
  for (const name of names) {
    const res = await app.gql('mutation($i: CategoryInput!) { addCategory(input: $i) { name } }', { i: { name, description: `test category ${name}` } });
    if (res.errors) throw new Error(`addCategory ${name}: ${JSON.stringify(res.errors)}`);
  }
}

/** Creates a member and a principal in it with a fresh key; returns ids and the key. */
export async function createMemberWithPrincipal(
  app: TestApp,
  kind: 'CARD_PROCESSOR' | 'CRYPTO_EXCHANGE' | 'COORDINATOR',
  roles: string[],
  name = `${kind.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<{ memberId: string; principalId: string; key: TestKey }> {
  const member = await app.gql(`mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`, { i: { name, kind } });
  if (member.errors) throw new Error(JSON.stringify(member.errors));
  const key = await newKey();
  const principal = await app.gql(`mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }`, {
    i: { memberId: member.data!.createMember.id, name: 'principal', roles, publicJwk: key.publicJwk },
  });
  if (principal.errors) throw new Error(JSON.stringify(principal.errors));
  return { memberId: member.data!.createMember.id, principalId: principal.data!.createPrincipal.id, key };
}
