import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import fc from 'fast-check';
import {
  buildSchema,
  execute,
  extendSchema,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
} from 'graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { executionPlan, jitExecutor, jitGateway } from './jit-driver.js';

/**
 * graphql-jit replaces graphql-js's execution of queries; these tests hold it to graphql-js's
 * behaviour where clients can tell: variable coercion over the service's own input types
 * (schema.graphql), errors as Apollo and the error formatter see them, and the operations
 * graphql-jit would answer differently, which must run on graphql-js.
 */

/** The service's schema as committed, with one echo field per input type, enum and scalar. */
function echoSchema(): { schema: GraphQLSchema; types: GraphQLInputType[] } {
  const base = buildSchema(readFileSync(new URL('../../../../schema.graphql', import.meta.url), 'utf8'));
  const named = Object.values(base.getTypeMap()).filter(
    (t) => !t.name.startsWith('__') && (isInputObjectType(t) || isEnumType(t) || isScalarType(t)),
  ) as GraphQLInputType[];
  const wrappers = (t: string) => [t, `${t}!`, `[${t}!]`, `[${t}]!`];
  const fields = named.flatMap((t) => wrappers(String(t)).map((w, i) => `echo_${String(t)}_${i}(v: ${w}): String`));
  const schema = extendSchema(base, parse(`extend type Query { ${fields.join('\n')} }`));
  const query = schema.getQueryType() as GraphQLObjectType;
  for (const [name, field] of Object.entries(query.getFields())) {
    if (name.startsWith('echo_')) field.resolve = (_s, args) => JSON.stringify(args.v);
  }
  return { schema, types: named };
}

const junk = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5, Number.MAX_SAFE_INTEGER, '', '1', 'true'),
  fc.constant([]),
  fc.constant({}),
);

/** Values near the type's shape (valid most of the time), with junk mixed in at every level. */
function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4) return junk;
  if (isNonNullType(type)) return fc.oneof({ weight: 9, arbitrary: valueFor(type.ofType, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type)) {
    return fc.oneof(
      { weight: 6, arbitrary: fc.array(valueFor(type.ofType, depth + 1), { maxLength: 3 }) },
      { weight: 2, arbitrary: valueFor(type.ofType, depth + 1) }, // a single value for a list
      { weight: 1, arbitrary: junk },
    );
  }
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const record = fc.record(Object.fromEntries(fields.map((f) => [f.name, valueFor(f.type, depth + 1)])), { requiredKeys: [] });
    const unknownField = fc.tuple(record, fc.constantFrom('unknown', 'Kind', '__typename'), junk).map(([r, k, v]) => ({ ...r, [k]: v }));
    return fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: unknownField }, { weight: 1, arbitrary: junk });
  }
  if (isEnumType(type)) {
    const names = type.getValues().map((v) => v.name);
    return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom(...names).map((n) => n.toLowerCase()) }, { weight: 2, arbitrary: junk });
  }
  switch (type.name) {
    case 'Int':
      return fc.oneof(fc.integer(), fc.integer({ min: -5, max: 5 }), junk);
    case 'Float':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), junk);
    case 'Boolean':
      return fc.oneof(fc.boolean(), junk);
    default:
      return fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.integer() }, { weight: 2, arbitrary: junk });
  }
}

const RUNS = Number(process.env.JIT_DIFF_RUNS ?? 150);

describe('graphql-jit variable coercion over schema.graphql', () => {
  const { schema, types } = echoSchema();
  const run = jitExecutor(schema);

  it.each(types.map((t) => [String(t), t] as const))('%s: accepted and coerced exactly as graphql-js does, refused when graphql-js refuses', async (name, type) => {
    const wrapped: GraphQLInputType[] = [type, new GraphQLNonNull(type), new GraphQLList(new GraphQLNonNull(type)), new GraphQLNonNull(new GraphQLList(type))];
    for (const [i, wrapper] of wrapped.entries()) {
      const document = parse(`query($v: ${String(wrapper)}) { out: echo_${name}_${i}(v: $v) }`);
      await fc.assert(
        fc.asyncProperty(fc.option(valueFor(wrapper), { nil: undefined, freq: 10 }), async (value) => {
          const variables = value === undefined ? {} : { v: value };
          const reference = await execute({ schema, document, variableValues: variables });
          const jit = await run({ key: `${name} ${i}`, document, variables });
          expect({ refused: jit.data === undefined, data: jit.data ?? null }).toEqual({ refused: reference.data === undefined, data: reference.data ?? null });
        }),
        { numRuns: RUNS },
      );
    }
  });
});

describe('jitGateway in Apollo', () => {
  const typeDefs = `
    type Query { ok(n: Int!): Int, fails: String, items(inputs: [In!]!): [String!]! }
    input In { kind: K, value: String }
    enum K { A B }
    type Mutation { step(label: String!): String }`;
  class Refusal extends Error {
    extensions = { code: 'FORBIDDEN' };
  }
  const order: string[] = [];
  function server() {
    const schema = buildSchema(typeDefs);
    const fields = { ...(schema.getQueryType() as GraphQLObjectType).getFields(), ...(schema.getMutationType() as GraphQLObjectType).getFields() };
    fields.ok.resolve = (_s, { n }) => n * 2;
    fields.fails.resolve = () => {
      throw new Refusal('not for you');
    };
    fields.items.resolve = (_s, { inputs }) => inputs.map((i: { kind?: string; value?: string }) => `${i.kind ?? '-'}:${i.value ?? '-'}`);
    fields.step.resolve = async (_s, { label }) => {
      order.push(`start ${label}`);
      await new Promise((r) => setTimeout(r, label === 'first' ? 30 : 1));
      order.push(`end ${label}`);
      return label;
    };
    return new ApolloServer({ gateway: jitGateway(schema, 2) }); // keeps 2 plans: the third document evicts one
  }

  /** Runs `test` against a started server(), stopped afterwards. */
  async function withServer(test: (apollo: ApolloServer) => Promise<void>) {
    const apollo = server();
    await apollo.start();
    try {
      await test(apollo);
    } finally {
      await apollo.stop();
    }
  }

  it('runs queries with variables, the same document many times, and more documents than it keeps', async () => {
    await withServer(async (apollo) => {
      for (const n of [1, 2, 3]) {
        for (const query of ['query($n: Int!) { ok(n: $n) }', 'query Q($n: Int!) { ok(n: $n) }', 'query($n: Int!) { a: ok(n: $n) }']) {
          const res = await apollo.executeOperation({ query, variables: { n } });
          expect(res.body.kind === 'single' && res.body.singleResult.data).toEqual(query.includes('a:') ? { a: 2 * n } : { ok: 2 * n });
        }
      }
      const batch = await apollo.executeOperation({ query: 'query($i: [In!]!) { items(inputs: $i) }', variables: { i: [{ kind: 'A', value: 'x' }, { value: 'y' }] } });
      expect(batch.body.kind === 'single' && batch.body.singleResult.data).toEqual({ items: ['A:x', '-:y'] });
    });
  });

  it('hands Apollo graphql-js errors: plugins may rewrite the message, the formatter finds the original error', async () => {
    const seen: unknown[] = [];
    const schema = buildSchema(typeDefs);
    (schema.getQueryType() as GraphQLObjectType).getFields().fails.resolve = () => {
      throw new Refusal('not for you');
    };
    const withFormatter = new ApolloServer({
      gateway: jitGateway(schema),
      plugins: [
        {
          async requestDidStart() {
            return {
              async didEncounterErrors({ errors }) {
                for (const e of errors) e.message = `${e.message} (rewritten)`;
              },
            };
          },
        },
      ],
      formatError: (formatted, error) => {
        seen.push(unwrapResolverError(error));
        return formatted;
      },
    });
    await withFormatter.start();
    try {
      const res = await withFormatter.executeOperation({ query: '{ fails }' });
      const result = res.body.kind === 'single' ? res.body.singleResult : undefined;
      expect(result?.data).toEqual({ fails: null });
      expect(result?.errors).toEqual([expect.objectContaining({ message: 'not for you (rewritten)', path: ['fails'], locations: [{ line: 1, column: 3 }] })]);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(Refusal);
    } finally {
      await withFormatter.stop();
    }
  });

  it('words refused variables as graphql-js does, which Apollo answers as BAD_USER_INPUT without running anything', async () => {
    await withServer(async (apollo) => {
      for (const variables of [{ i: [{ kind: 'C' }] }, { i: [{ kind: 'A', other: 1 }] }, { i: [{ value: 7 }] }, {}]) {
        const res = await apollo.executeOperation({ query: 'query($i: [In!]!) { items(inputs: $i) }', variables });
        const result = res.body.kind === 'single' ? res.body.singleResult : undefined;
        expect(result?.data).toBeUndefined();
        expect(result?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(result?.errors?.[0]?.message).toMatch(/^Variable "\$i" (got invalid value|of required type)/);
        expect(res.http.status).toBe(400);
      }
    });
  });

  it('keeps apart a request without an operation name and one naming the empty operation', async () => {
    await withServer(async (apollo) => {
      const unnamed = await apollo.executeOperation({ query: '{ ok(n: 1) }' });
      expect(unnamed.body.kind === 'single' && unnamed.body.singleResult.data).toEqual({ ok: 2 });
      const empty = await apollo.executeOperation({ query: '{ ok(n: 1) }', operationName: '' });
      const result = empty.body.kind === 'single' ? empty.body.singleResult : undefined;
      expect(result?.data).toBeUndefined();
      expect(result?.errors?.[0]?.message).toBe('Unknown operation named "".');
      expect(empty.http.status).not.toBe(500);
    });
  });

  it('runs the fields of a mutation one after another', async () => {
    await withServer(async (apollo) => {
      order.length = 0;
      const res = await apollo.executeOperation({ query: 'mutation { a: step(label: "first") b: step(label: "second") }' });
      expect(res.body.kind === 'single' && res.body.singleResult.data).toEqual({ a: 'first', b: 'second' });
      expect(order).toEqual(['start first', 'end first', 'start second', 'end second']);
    });
  });
});

describe('operations graphql-jit would answer differently run on graphql-js', () => {
  const typeDefs = `
    scalar JSON
    scalar Date
    type Query { o: O, json(v: JSON): String, when(d: Date): String, items(inputs: [In!]!): [String!]! }
    input In { kind: String, value: String, extra: JSON }
    type O { a: String, b: String }
    type Mutation { refuse: String!, m(k: String!): String! }`;
  const calls: string[] = [];
  const schema = buildSchema(typeDefs);
  Object.assign(schema.getType('JSON')!, { parseValue: GraphQLJSON.parseValue, parseLiteral: GraphQLJSON.parseLiteral, serialize: GraphQLJSON.serialize });
  Object.assign(schema.getType('Date')!, {
    parseValue: (v: unknown) => {
      const d = new Date(String(v));
      if (Number.isNaN(d.getTime())) throw new TypeError('not a date');
      return d;
    },
    parseLiteral: (node: { value?: string }) => new Date(String(node.value)),
  });
  const q = schema.getQueryType()!.getFields();
  q.o.resolve = () => ({ a: 'A', b: 'B' });
  q.json.resolve = (_s, { v }) => JSON.stringify(v);
  q.when.resolve = (_s, { d }) => (d instanceof Date ? `Date ${d.toISOString()}` : `${typeof d} ${String(d)}`);
  q.items.resolve = (_s, { inputs }) => inputs.map((i: Record<string, unknown>) => JSON.stringify(i));
  const m = schema.getMutationType()!.getFields();
  m.refuse.resolve = () => {
    calls.push('refuse');
    throw new Error('refused');
  };
  m.m.resolve = (_s, { k }) => {
    calls.push(k);
    return k;
  };
  const run = jitExecutor(schema);

  /** The executor's answer and the resolvers it ran equal graphql-js's; returns the plan taken. */
  async function same(source: string, variables: Record<string, unknown> = {}, operationName?: string) {
    const document = parse(source);
    calls.length = 0;
    const expected = await execute({ schema, document, variableValues: variables, operationName });
    const expectedCalls = [...calls];
    calls.length = 0;
    const actual = await run({ key: `${source}|${operationName ?? ''}`, document, variables, operationName });
    expect(JSON.parse(JSON.stringify(actual))).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(calls).toEqual(expectedCalls);
    const plan = executionPlan(schema, document, operationName);
    return 'reference' in plan ? plan.reference : 'graphql-jit';
  }

  it('stops a mutation at its first failed non-null field, as graphql-js does (later fields never run)', async () => {
    expect(await same('mutation { r: refuse b: m(k: "2") c: m(k: "3") }')).toBe('mutation');
    expect(await same('mutation { b: m(k: "1") r: refuse c: m(k: "3") }')).toBe('mutation');
  });

  it('keeps every field of fragments spread under @include/@skip, also across the operations of one document', async () => {
    const fragments = 'fragment F on O { a } fragment G on O { a }';
    expect(await same(`query($c: Boolean!) { o { ...F @include(if: $c) b } p: o { ...F } } ${fragments}`, { c: false })).toBe('@include');
    expect(await same(`query($a: Boolean!, $b: Boolean!) { o { ...G @include(if: $a) ...G @include(if: $b) } } ${fragments}`, { a: false, b: true })).toBe('@include');
    const two = `query A($x: Boolean!) { o { ...F @skip(if: $x) } } query B { o { ...F b } } ${fragments}`;
    await same(two, { x: true }, 'A');
    await same(two, {}, 'B');
  });

  it('passes variables inside a custom scalar literal, and parses variable defaults of custom scalars', async () => {
    expect(await same('query($x: String) { json(v: { kty: "OKP", x: $x, list: [$x] }) }', { x: 'key' })).toBe('a variable inside a custom scalar literal');
    expect(await same('query($d: Date = "2020-01-02T03:04:05Z") { when(d: $d) }')).toBe('a variable default value');
  });

  it('runs the rest on graphql-jit, with the same answers: variables of custom scalars, input objects holding them', async () => {
    expect(await same('query($x: JSON) { json(v: $x) }', { x: { kty: 'OKP', x: 'k', n: [1, null] } })).toBe('graphql-jit');
    expect(await same('query($d: Date) { when(d: $d) }', { d: '2020-01-02T03:04:05Z' })).toBe('graphql-jit');
    expect(await same('query($v: String, $e: JSON) { items(inputs: [{ kind: "K", value: $v, extra: $e }]) }', { v: 'x', e: { a: 1 } })).toBe('graphql-jit');
    expect(await same('{ json(v: { kty: "OKP" }) o { a b } }')).toBe('graphql-jit');
  });

  it('never runs a string that carries graphql-jit’s placeholders as code (it would write `new Date(<the rest>)` into its generated code)', async () => {
    const g = globalThis as { jitInjected?: unknown };
    const payload = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d(globalThis.jitInjected = 1, 0)';
    const escaped = payload.replace(/_/g, '\\u005F'); // the same string, written with escapes in the document
    expect(await same(`{ json(v: "${payload}") }`)).toBe('a string like graphql-jit placeholders');
    expect(await same(`{ items(inputs: [{ value: "${escaped}" }]) }`)).toBe('a string like graphql-jit placeholders');
    expect(await same(`{ json(v: { note: """__MAGIC_NAN__57f286b9_4c20_487f_b409_79804ddcb4f8""" }) }`)).toBe('a string like graphql-jit placeholders');
    expect(await same('{ json(v: { __MAGIC_NAN__57f286b9_4c20_487f_b409_79804ddcb4f8: 1 }) }')).toBe('a name like graphql-jit placeholders');
    expect(g.jitInjected).toBeUndefined();
  });

  it('runs the service’s screening operations on graphql-jit', () => {
    const service = buildSchema(readFileSync(new URL('../../../../schema.graphql', import.meta.url), 'utf8'));
    for (const source of [
      'query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match matchedVia indicator { id status } } }',
      'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match matchedVia indicator { id status } } }',
    ]) {
      expect('query' in executionPlan(service, parse(source))).toBe(true);
    }
  });
});
