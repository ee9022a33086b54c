import { readFileSync, writeFileSync } from 'node:fs';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { AccessPolicyRegistry, undeclared } from '../../apps/api/src/common/access-policy.registry.js';
import { startTestApp, type TestApp } from '../support/server.js';

const SCHEMA_FILE = new URL('../../schema.graphql', import.meta.url);
const HEADER = '# Generated from the code-first resolvers: `npm run schema` rewrites it. Reviewed as an API change.\n\n';

describe('schema and access declarations', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  function liveSchema(): string {
    const { schema } = app.server.app.get(GraphQLSchemaHost);
    return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
  }

  it('the committed schema.graphql is what the server serves (UPDATE_SCHEMA=1 rewrites it)', () => {
    const live = liveSchema();
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, live);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(live);
  });

  it('every query, mutation and subscription declares who may call it, and none is public', () => {
    const { schema } = app.server.app.get(GraphQLSchemaHost);
    const operations = app.server.app.get(AccessPolicyRegistry).operations();
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null);
    expect(roots.length).toBeGreaterThanOrEqual(2);
    for (const root of roots) {
      for (const field of Object.keys(root!.getFields())) {
        const declared = operations.find((op) => op.type === root!.name && op.name === field);
        expect({ operation: `${root!.name}.${field}`, declared: Boolean(declared?.policy) }).toEqual({
          operation: `${root!.name}.${field}`,
          declared: true,
        });
        expect(declared!.policy!.kind).not.toBe('public');
      }
    }
    expect(undeclared(operations)).toEqual([]);
  });

  it('undeclared() names a resolver method that has no policy (what stops start-up)', () => {
    expect(
      undeclared([
        { type: 'Query', name: 'ok', resolver: 'R.ok', policy: { kind: 'authenticated' } },
        { type: 'Mutation', name: 'leaky', resolver: 'R.leaky', policy: undefined },
      ]),
    ).toEqual(['R.leaky']);
  });

  it('refuses a query nested deeper than the depth limit, with a GraphQL error', async () => {
    const deep = '{ me { member { principals { member { principals { member { principals { member { id } } } } } } } } }';
    const res = await app.gql(deep);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].message).toMatch(/depth/i);
    expect(res.data).toBeUndefined();
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: me { id }`).join(' ');
    const res = await app.gql(`{ ${aliases} }`);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].message).toMatch(/aliases/i);
  });

  it('refuses a query over the cost limit (CORDON_MAX_QUERY_COST)', async () => {
    const cheap = await startTestApp({ CORDON_MAX_QUERY_COST: '20' });
    try {
      const ok = await cheap.gql('{ me { id name } }');
      expect(ok.errors).toBeUndefined();
      const res = await cheap.gql('{ members { id name kind suspended createdAt principals { id name roles keys { kid alg status createdAt } } } }');
      expect(res.status).toBe(400);
      expect(res.errors?.[0].message).toMatch(/cost/i);
      expect(res.data).toBeUndefined();
    } finally {
      await cheap.stop();
    }
  });

  it('refuses a body over CORDON_MAX_BODY_BYTES with a GraphQL-shaped PAYLOAD_TOO_LARGE', async () => {
    const big = 'x'.repeat(app.config.maxBodyBytes + 10);
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } }`, variables: { big } }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string }; message: string }[] };
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.errors[0].message).toContain('CORDON_MAX_BODY_BYTES');
  });

  it('answers a syntax error with 400 and no stack trace', async () => {
    const res = await app.gql('{ me { id ');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.errors)).not.toMatch(/stacktrace|at .*\.js/);
  });
});
