import fc from 'fast-check';
import * as jose from 'jose';
import pg from 'pg';
import { newKey, type TestKey } from '../support/keys.js';
import { addCategories, createMemberWithPrincipal, type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';

/** Categories of the vocabulary the fuzzed statements use (the shortest and the longest a name may be among them). */
const FUZZ_CATEGORIES = ['CSAM_COMMERCIAL', 'FRAUD', 'X_1', 'Q', `Z${'9_'.repeat(31)}A`];
import { statement } from '../support/statements.js';

/**
 * Issue 8: input fuzzing through HTTP. fast-check generates inputs for every input type, sends
 * them over real HTTP with real signed tokens, and checks after each generated run:
 * - no 5xx, and the server still answers a trivial query;
 * - a refused input stores nothing (row counts move only by what was accepted);
 * - every error carries a known extensions.code, and BAD_USER_INPUT names the field;
 * - per-item refusals (SubmitOutcome, ScreenResult) name the field too.
 * Seed: FUZZ_SEED (default below); FUZZ_SHRINK=1 shrinks a counterexample (slow over HTTP);
 * FUZZ_STRICT=1 stops tolerating the known, reported bugs listed in KNOWN_BUGS.
 */

const SEED = Number.isInteger(Number(process.env.FUZZ_SEED)) && process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 424242;
fc.configureGlobal({ seed: SEED, endOnFailure: !process.env.FUZZ_SHRINK });

const KNOWN_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
]);
/** submitStatement answers a refusal with the check that failed (README, Signed statements). */
const STATEMENT_CODES = new Set([
  'MALFORMED',
  'BAD_HEADER',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'NOT_CONTRIBUTOR',
  'MEMBER_SUSPENDED',
  'FOREIGN_ISSUER',
  'BAD_CLAIMS',
  'UNKNOWN_MEMBER',
  'INVALID_VALUE',
  'EXCLUDED',
  'REPLAY',
  'TOO_MANY',
]);
/** `field: reason`, the field a path such as input.publicJwk.x or claims.evidence.sites[3]. */
const NAMES_FIELD = /^[A-Za-z_$][\w$]*(?:\[\d+\]|\.[A-Za-z_$][\w$]*)*: \S/;
/** graphql-js coercion of a variable: names the variable (and the path inside it). */
const NAMES_VARIABLE = /^Variable "\$[A-Za-z_]\w*" /;

const TABLES = ['member', 'principal', 'principal_key', 'indicator', 'statement', 'exclusion', 'dispute'] as const;
type Table = (typeof TABLES)[number];
type Counts = Record<Table, number>;
type Delta = Partial<Counts>;

const KINDS = ['WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL'] as const;
const MEMBER_KINDS = ['CARD_PROCESSOR', 'CRYPTO_EXCHANGE', 'COORDINATOR'] as const;
const ROLES = ['SCREENER', 'CONTRIBUTOR', 'CURATOR', 'AUDITOR', 'ADMIN'] as const;
const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED'] as const;
const NETWORKS = ['bitcoin', 'ethereum', 'tron', 'litecoin', 'bitcoin-cash', 'monero', 'solana', 'polygon', 'bsc', 'Polygon', 'ETHEREUM', 'dogecoin'];
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
const HEX = '0123456789abcdefABCDEF'.split('');
const NOW = Math.floor(Date.now() / 1000);

const SAMPLE_VALUES: Record<(typeof KINDS)[number], string[]> = {
  WALLET_ADDRESS: [
    '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu',
    '3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC',
    'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
    'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4',
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359',
    'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a',
    'qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a',
    'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
    'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA',
    '46r4nYSevkfBUMhuykdK3gQ98XDqDTYW1hNLaXNvjpsJaSbNtdXh1sKMsdVgqkaihChAzEy29zEDPMR3NHQvGoZCLGwTerK',
    '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge',
    'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
    'bc1veh4ESYEfGpM5uK9wn1UGog5fp8anuAQkrzqSwZP',
  ],
  MERCHANT_ID: ['acq one:m-77', 'ACQ:123', 'a:b', ':', 'x:', ':y', 'acq:mid:extra', 'Acq One: M-77 '],
  DOMAIN: ['pay-abuse.example.com', 'Bücher.example', 'xn--bcher-kva.example', 'example.com.', 'localhost', '127.0.0.1', '[::1]', 'a..b', '-a.com', 'ｅｘａｍｐｌｅ.com'],
  URL: [
    'https://pay-abuse.example.com/x?y=1#z',
    'HTTPS://Example.COM:443/Path#x',
    'http://user:pw@example.com:8080/',
    'ftp://example.com/',
    'javascript:alert(1)',
    'https://xn--80ak6aa92e.com/',
    'http://[::1]:80/',
    '//example.com',
    'https://exa mple.com',
  ],
};

/* ------------------------------------------------------------------ arbitraries */

const B64_CHAR = fc.constantFrom(...B64URL);
const b64seg = (maxLength = 120) => fc.string({ unit: B64_CHAR, maxLength });
const hexString = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength, maxLength });
const b64urlJson = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value) ?? 'null', 'utf8').toString('base64url');

/** Text that tends to break things: unicode, control characters, lone surrogates, long runs. */
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '   ',
      '\u0000',
      'a\u0000b',
      '\n',
      '\t',
      '\r\n',
      '\u0007',
      '\u007f',
      '\u0085',
      '\u202e',
      '\ufeff',
      '\u200b',
      '\ud800',
      '\udfff',
      '💩',
      'ｅｘａｍｐｌｅ',
      "' OR '1'='1",
      '"; DROP TABLE member; --',
      '${jndi:ldap://x}',
      '<script>alert(1)</script>',
      '%00',
      '..',
      '/',
      '\\',
      'null',
      'undefined',
      '__proto__',
      'constructor',
      'NaN',
      '-0',
      '1e400',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '9', '.', '-', ':', '/', '_', '@', '%', ' ', '\u0000', '\u0001', '\u001f', 'é', 'ß', '\u0130', '\u200d', '\ud83d', '😀'),
      maxLength: 60,
    }),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '😀', '\u0000', '0'), fc.integer({ min: 129, max: 3000 })).map(([c, n]) => c.repeat(n)) },
);

/** Junk JSON of every type: numbers at the edges, deep nesting, strings from `nasty`. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nasty },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      5e-324,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53,
      2 ** 63,
      Number.MAX_SAFE_INTEGER,
      true,
      false,
      null,
      [],
      {},
      [null],
      { '': '' },
      JSON.parse('{"__proto__":{"x":1}}') as unknown,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown) },
  { weight: 1, arbitrary: fc.dictionary(nasty, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) },
);

/** A plausible-looking value of a kind, often valid, often one character off. */
const mutatedText = (samples: string[]) =>
  fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.constantFrom('', 'x', '0', 'O', 'l', 'I', '.', ' ', '\u0000', 'é', 'Z', ':', '/'), fc.constantFrom('set', 'ins', 'del', 'none', 'upper', 'lower')).map(
    ([s, at, ch, op]) => {
      const i = s.length === 0 ? 0 : at % s.length;
      switch (op) {
        case 'set':
          return s.slice(0, i) + ch + s.slice(i + 1);
        case 'ins':
          return s.slice(0, i) + ch + s.slice(i);
        case 'del':
          return s.slice(0, i) + s.slice(i + 1);
        case 'upper':
          return s.toUpperCase();
        case 'lower':
          return s.toLowerCase();
        default:
          return s;
      }
    },
  );

const evmAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const anyValueText = fc.oneof(
  { weight: 3, arbitrary: mutatedText(Object.values(SAMPLE_VALUES).flat()) },
  { weight: 1, arbitrary: evmAddress },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: fc.webUrl() },
  { weight: 1, arbitrary: fc.domain() },
);
const networkArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NETWORKS) }, { weight: 1, arbitrary: nasty });
const kindArb = fc.constantFrom(...KINDS);
const fingerprintArb = fc.oneof(hexString(64, 64), hexString(0, 70), nasty, fc.constantFrom('0'.repeat(64), 'G'.repeat(64), `${'a'.repeat(63)}\u0000`));

/** ScreenInput objects of every combination: absent, null, valid, junk. */
const screenInputArb = fc.record(
  {
    kind: fc.option(kindArb, { nil: null }),
    value: fc.option(anyValueText, { nil: null, freq: 6 }),
    network: fc.option(networkArb, { nil: null, freq: 2 }),
    // (fc.option's freq is the odds of nil, 1 in freq: fingerprint is given in about 1 input of 4)
    fingerprint: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fingerprintArb }),
  },
  { requiredKeys: [] },
);

const uuidVariant = fc.tuple(fc.uuid(), fc.constantFrom('plain', 'upper', 'nohyphen', 'braces', 'space', 'nul', 'urn', 'short', 'dashes')).map(([u, how]) => {
  switch (how) {
    case 'upper':
      return u.toUpperCase();
    case 'nohyphen':
      return u.replace(/-/g, '');
    case 'braces':
      return `{${u}}`;
    case 'space':
      return ` ${u}\n`;
    case 'nul':
      return `${u}\u0000`;
    case 'urn':
      return `urn:uuid:${u}`;
    case 'short':
      return u.slice(0, 35);
    case 'dashes':
      return '-'.repeat(36);
    default:
      return u;
  }
});
const idArb = fc.oneof({ weight: 2, arbitrary: uuidVariant }, { weight: 2, arbitrary: nasty }, { weight: 1, arbitrary: b64seg(43) });

/* ------------------------------------------------------------------ helpers */

/** Sets an own, enumerable member, `__proto__` included (so JSON.stringify sends it). */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function fail(message: string, detail?: unknown): never {
  let shown = '';
  try {
    shown = detail === undefined ? '' : ` — ${JSON.stringify(detail).slice(0, 1500)}`;
  } catch {
    shown = ' — (unprintable)';
  }
  throw new Error(`${message}${shown}`);
}

function namesField(error: { message: string; extensions?: { field?: string } }): boolean {
  return NAMES_FIELD.test(error.message) || !!error.extensions?.field || NAMES_VARIABLE.test(error.message);
}

/**
 * Fastify's JSON parser refuses a body with a "__proto__" (or "constructor.prototype") member as
 * "not valid JSON": HTTP 400, code BAD_REQUEST (see the report). Tolerated for exactly such bodies.
 */
const PROTO_MEMBER = /"(__proto__|constructor)":/;
type Answer = GraphqlResponse & { protoBody?: boolean };

/**
 * Bugs this fuzzer found first, all fixed since (common/validate.ts, input-validation.pipe.ts,
 * format-error.ts, audit.resolver.ts): the suite is strict. FUZZ_STRICT=0 tolerates and counts
 * them again (for bisecting an old commit).
 */
const STRICT = process.env.FUZZ_STRICT !== '0';
const KNOWN_BUGS = {
  surrogateText:
    'a lone surrogate in a free-text reason/note answers 500: common/validate.ts text() lets \\p{Cs} through and RFC 8785 canonicalize() throws on it in the audit event',
  constructorKey:
    'createPrincipal with a "constructor" member anywhere inside publicJwk answers 500: class-transformer (common/input-validation.pipe.ts) takes value.constructor as a class',
  literalUnnamed:
    'a literal argument of the wrong type (e.g. indicators(first: "x")) answers BAD_USER_INPUT "Int cannot represent non-integer value: \\"x\\"", which does not name the argument (common/format-error.ts)',
  invalidDate: 'an invalid DateTime in auditEvents(filter: { since, until }) answers 500: Nest’s DateTime scalar yields an Invalid Date that goes to SQL',
} as const;
type KnownBug = keyof typeof KNOWN_BUGS;
const knownBugHits: Partial<Record<KnownBug, number>> = {};
const hasLoneSurrogate = (v: unknown) => typeof v === 'string' && /\p{Cs}/u.test(v);
const isBadDate = (v: unknown) => {
  if (v === undefined || v === null) return false;
  const d = new Date(v as string);
  return !Number.isFinite(d.getTime()) || d.getUTCFullYear() < -4712;
};

/** No 5xx; every error has a known code; BAD_USER_INPUT (and statement refusals) name the field. */
function checkResponse(res: Answer, what: string, input: unknown, extraCodes: Set<string> = new Set(), knownBug?: KnownBug): boolean {
  if (res.status >= 500) fail(`${what}: HTTP ${res.status}`, { input, errors: res.errors });
  for (const error of res.errors ?? []) {
    const code = error.extensions?.code;
    if (code === 'BAD_USER_INPUT' && knownBug === 'literalUnnamed' && !STRICT && !namesField(error) && !error.path) {
      knownBugHits[knownBug] = (knownBugHits[knownBug] ?? 0) + 1;
      continue;
    }
    if (code === 'INTERNAL_SERVER_ERROR' && knownBug && knownBug !== 'literalUnnamed' && !STRICT && res.errors?.length === 1) {
      knownBugHits[knownBug] = (knownBugHits[knownBug] ?? 0) + 1;
      return false;
    }
    if (typeof code !== 'string' || !(KNOWN_CODES.has(code) || extraCodes.has(code))) fail(`${what}: unknown error code ${code}`, { input, error });
    if ((code === 'BAD_USER_INPUT' || extraCodes.has(code)) && !namesField(error)) fail(`${what}: ${code} does not name the field`, { input, error });
  }
  return true;
}

/** Runs fn over items, `limit` at a time; waits for every call before reporting the first failure. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  const failures: unknown[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await fn(items[i], i);
        } catch (err) {
          failures.push(err);
        }
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
  return out;
}

/**
 * fc.assert, but a failure reports the seed, the path to replay it and the failed check — not the
 * whole generated batch (hundreds of inputs); the check's own message shows the offending input.
 */
async function property<T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arb, predicate), { numRuns });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`property failed (seed ${details.seed}, path "${details.counterexamplePath}", FUZZ_SEED=${SEED}): ${cause}`);
  }
}

/* ------------------------------------------------------------------ the suite */

type Party = { memberId: string; principalId: string; key: TestKey };

describe('input fuzzing through HTTP (issue 8)', () => {
  let app: TestApp;
  let db: pg.Client;
  let contributor: Party; // CONTRIBUTOR SCREENER AUDITOR of a crypto exchange
  let foreign: Party; // CONTRIBUTOR of a card processor
  let coordinator: Party; // CONTRIBUTOR CURATOR SCREENER of a coordinator member
  let screener: Party; // SCREENER only
  let stranger: TestKey; // registered nowhere
  let validJws: string[] = [];
  let realCursors: string[] = [];
  let freshKeys: TestKey[] = [];
  const knownStatements = new Set<string>();
  const knownIndicators = new Set<string>();
  const cases: Record<string, number> = {};
  let protoRefused = 0;
  let acceptedStatements = 0;
  const outcomeTally: Record<string, number> = {};
  const started = Date.now();

  const count = (name: string, n: number) => {
    cases[name] = (cases[name] ?? 0) + n;
  };

  async function counts(): Promise<Counts> {
    const { rows } = await db.query<Counts>(`SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
    return rows[0];
  }

  /** POST /graphql; notes whether the body carries a member Fastify's parser refuses. */
  async function gql(doc: string, variables: Record<string, unknown>, key: TestKey): Promise<Answer> {
    const res: Answer = await app.gql(doc, variables, key);
    res.protoBody = PROTO_MEMBER.test(JSON.stringify(variables));
    if (res.protoBody && res.status === 400) protoRefused++;
    return res;
  }

  async function alive(): Promise<void> {
    const res = await app.gql<{ __typename: string }>('{ __typename }');
    if (res.status !== 200 || res.data?.__typename !== 'Query') fail('the server no longer answers a trivial query', res);
  }

  /**
   * One generated run: counts before, the run (which says what it accepted), counts after; then
   * the server must still answer. Every table outside `delta` must not move.
   */
  async function guarded(what: string, body: () => Promise<{ n: number; delta?: Delta }>): Promise<void> {
    const before = await counts();
    const { n, delta = {} } = await body();
    const after = await counts();
    for (const t of TABLES) {
      const moved = after[t] - before[t];
      if (moved !== (delta[t] ?? 0)) fail(`${what}: table ${t} changed by ${moved}, expected ${delta[t] ?? 0} (refused input stored something?)`);
    }
    await alive();
    count(what, n);
  }

  beforeAll(async () => {
    app = await startTestApp();
    await addCategories(app, FUZZ_CATEGORIES.filter((c) => c !== 'CSAM_COMMERCIAL'));
    db = new pg.Client({ connectionString: app.db.url });
    await db.connect();
    contributor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER', 'AUDITOR']);
    foreign = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['CONTRIBUTOR']);
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR', 'SCREENER']);
    screener = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    stranger = await newKey('EdDSA');
    freshKeys = await Promise.all(Array.from({ length: 24 }, (_, i) => newKey(i % 2 ? 'EdDSA' : 'ES256')));

    // Some real data: indicators (active and pending), a dispute, an exclusion, so that cursors,
    // matches and duplicates exist.
    const seed = async (by: Party, indicator: { kind: string; network?: string; value: unknown }, extra: Record<string, unknown> = {}) => {
      const res = await app.gql(
        'mutation($j: String!) { submitStatement(jws: $j) { indicator { id } statement { id } } }',
        { j: await statement(by.key, { iss: by.principalId, indicator, ...extra }) },
        by.key,
      );
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      knownIndicators.add(res.data!.submitStatement.indicator.id);
      knownStatements.add(res.data!.submitStatement.statement.id);
      return res.data!.submitStatement.indicator.id as string;
    };
    for (const value of SAMPLE_VALUES.WALLET_ADDRESS.slice(0, 6)) await seed(coordinator, { kind: 'WALLET_ADDRESS', value });
    const active = await seed(coordinator, { kind: 'DOMAIN', value: 'pay-abuse.example.com' }, { evidence: { sites: ['https://pay-abuse.example.com/x'] } });
    await seed(coordinator, { kind: 'MERCHANT_ID', value: { acquirer: 'Acq One', mid: 'M-77' } }, { tlp: 'RED' });
    await seed(contributor, { kind: 'URL', value: 'https://pending.example.org/p' });
    await seed(contributor, { kind: 'WALLET_ADDRESS', network: 'ethereum', value: '0x00000000000000000000000000000000000000aa' });
    const dispute = await app.gql('mutation($i: ID!) { disputeIndicator(id: $i, reason: "not ours") { id } }', { i: active }, contributor.key);
    if (dispute.errors) throw new Error(JSON.stringify(dispute.errors));
    const exclusion = await app.gql(
      'mutation { addExclusion(input: { kind: WALLET_ADDRESS, network: "ethereum", value: "0x00000000000000000000000000000000000000ee", reason: "hot wallet" }) { id } }',
    );
    if (exclusion.errors) throw new Error(JSON.stringify(exclusion.errors));

    // Valid statements, never submitted as they are: the bases of mutated JWSs.
    validJws = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        statement(contributor.key, {
          iss: contributor.principalId,
          indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: `0x${(0xb0 + i).toString(16).padStart(40, '0')}` },
          evidence: { sites: ['https://abuse.example.net/a'], reference: 'ref', observedAt: '2026-01-01T00:00:00Z' },
          shareWith: [foreign.memberId],
        }),
      ),
    );

    const page = await app.gql(`{
      indicators(first: 2) { pageInfo { endCursor } }
      changes(first: 2) { pageInfo { endCursor } }
      auditEvents(first: 2) { pageInfo { endCursor } }
      disputes(first: 1) { pageInfo { endCursor } }
      reviewQueue(first: 1) { pageInfo { endCursor } }
    }`);
    if (page.errors) throw new Error(JSON.stringify(page.errors));
    realCursors = Object.values(page.data as Record<string, { pageInfo: { endCursor: string | null } }>)
      .map((c) => c.pageInfo.endCursor)
      .filter((c): c is string => !!c);
    // eslint-disable-next-line no-console
    console.log(`fuzz: seed ${SEED} (set FUZZ_SEED to change it)`);
  });

  afterAll(async () => {
    await db?.end();
    await app?.stop();
    const total = Object.values(cases).reduce((a, b) => a + b, 0);
    // eslint-disable-next-line no-console
    console.log(
      `fuzz: seed ${SEED}, ${total} generated cases in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        ` (${acceptedStatements} generated statements accepted;` +
        ` ${protoRefused} bodies with a "__proto__" member refused by the JSON parser as bad input)\n` +
        `  submitStatements outcomes: ${Object.entries(outcomeTally)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}\n` +
        Object.entries(knownBugHits)
          .map(([k, n]) => `  KNOWN BUG hit ${n}×: ${KNOWN_BUGS[k as KnownBug]}\n`)
          .join('') +
        Object.entries(cases)
          .map(([k, v]) => `  ${k}: ${v}`)
          .join('\n'),
    );
  });

  /* ---------------------------------------------------------------- screening */

  it('screenBatch: any mix of kind/value/network/fingerprint answers one result per input, errors naming the field', async () => {
    const BATCH = `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { input kind network normalized fingerprint valid error match matchedVia pending disputed indicator { id } } }`;
    await property(fc.tuple(fc.array(screenInputArb, { minLength: 200, maxLength: 500 }), fc.constantFrom('contributor', 'screener', 'admin')), 24, async ([inputs, who]) => {
      await guarded('screenBatch inputs', async () => {
        const key = who === 'contributor' ? contributor.key : who === 'screener' ? screener.key : app.admin;
        const res = await app.gql<{ screenBatch: Record<string, any>[] }>(BATCH, { inputs }, key);
        checkResponse(res, 'screenBatch', inputs.length);
        if (res.errors) fail('screenBatch: a batch of well-typed inputs failed as a whole', res.errors);
        const results = res.data!.screenBatch;
        if (results.length !== inputs.length) fail(`screenBatch: ${results.length} results for ${inputs.length} inputs`);
        results.forEach((r, i) => {
          const input = inputs[i];
          const echo = input.fingerprint ?? input.value ?? '';
          if (r.input !== echo) fail('screenBatch: result out of order or input not echoed', { input, result: r });
          if (r.valid) {
            if (r.error !== null || typeof r.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(r.fingerprint)) fail('screenBatch: valid result without a fingerprint', { input, result: r });
          } else {
            if (typeof r.error !== 'string' || !NAMES_FIELD.test(r.error)) fail('screenBatch: ScreenResult.error does not name the field', { input, result: r });
            if (r.match) fail('screenBatch: an invalid input matched', { input, result: r });
          }
        });
        return { n: inputs.length };
      });
    });
  });

  it('screen: single inputs (15 aliased calls a request) answer a result or a named error', async () => {
    const doc = (n: number) =>
      `query(${Array.from({ length: n }, (_, i) => `$i${i}: ScreenInput!`).join(', ')}) { ${Array.from(
        { length: n },
        (_, i) => `a${i}: screen(input: $i${i}) { input valid error match }`,
      ).join(' ')} }`;
    await property(fc.array(screenInputArb, { minLength: 15, maxLength: 15 }), 14, async (inputs) => {
      await guarded('screen inputs', async () => {
        const res = await app.gql(doc(inputs.length), Object.fromEntries(inputs.map((v, i) => [`i${i}`, v])), screener.key);
        checkResponse(res, 'screen', inputs);
        inputs.forEach((input, i) => {
          const r = res.data?.[`a${i}`] as { input: string; valid: boolean; error: string | null } | undefined;
          if (!r) fail('screen: no result for a well-typed input', { input, errors: res.errors });
          if (!r.valid && !(typeof r.error === 'string' && NAMES_FIELD.test(r.error))) fail('screen: error does not name the field', { input, r });
        });
        return { n: inputs.length };
      });
    });
  });

  it('screenByPrefix: any prefix and padTo answers fingerprints of that bucket or a named error', async () => {
    const prefixArb = fc.oneof(hexString(0, 10), hexString(5, 8), nasty, fc.constantFrom('０１２３４', 'abcde\u0000', 'abcdef ', ' abcde', 'g0000', '%', '_____', 'abc\\_'));
    const padArb = fc.option(fc.oneof(fc.integer({ min: -3, max: 1100 }), fc.integer()), { nil: null, freq: 2 });
    const item = fc.record({ prefix: prefixArb, padTo: padArb });
    // One call a request: a refused non-null field nulls the whole answer and hides its siblings' errors.
    await property(fc.array(item, { minLength: 30, maxLength: 30 }), 10, async (items) => {
      await guarded('screenByPrefix prefixes', async () => {
        await pool(items, 8, async (it) => {
          const res = await app.gql('query($p: String!, $n: Int) { screenByPrefix(prefix: $p, padTo: $n) { fingerprint status } }', { p: it.prefix, n: it.padTo }, contributor.key);
          checkResponse(res, 'screenByPrefix', it);
          const list = res.data?.screenByPrefix as { fingerprint: string }[] | null | undefined;
          const okPrefix = /^[0-9a-fA-F]{5,8}$/.test(it.prefix);
          const okPad = it.padTo === null || (it.padTo >= 1 && it.padTo <= 1000);
          if (okPrefix && okPad) {
            if (!list) fail('screenByPrefix: a valid prefix was refused', { it, errors: res.errors });
            for (const m of list) if (!m.fingerprint.startsWith(it.prefix.toLowerCase()) || !/^[0-9a-f]{64}$/.test(m.fingerprint)) fail('screenByPrefix: foreign fingerprint', { it, m });
            if (it.padTo !== null && list.length < it.padTo) fail('screenByPrefix: not padded', { it, got: list.length });
          } else {
            const error = res.errors?.[0];
            if (list || error?.extensions?.code !== 'BAD_USER_INPUT') fail('screenByPrefix: an invalid prefix/padTo was not refused as BAD_USER_INPUT', { it, error });
            if (!/^(prefix|padTo): /.test(error.message)) fail('screenByPrefix: the error names the wrong field', { it, error });
          }
        });
        return { n: items.length };
      });
    });
  });

  /* ---------------------------------------------------------------- statements */

  type SignerName = 'contributor' | 'foreign' | 'coordinator' | 'screener' | 'stranger';
  type StatementCase =
    | { t: 'raw'; jws: string }
    | { t: 'mutated'; base: number; op: string; at: number; ch: string }
    | { t: 'signed'; signer: SignerName; header: Record<string, unknown>; payload: Record<string, unknown> | unknown; text?: { op: string; at: number } };

  const CLAIM_NAMES = ['iss', 'jti', 'iat', 'exp', 'indicator', 'category', 'confidence', 'tlp', 'shareWith', 'evidence'];
  const DELETE = Symbol('delete');

  function statementCases(): fc.Arbitrary<StatementCase> {
    const issArb = fc.oneof(
      { weight: 14, arbitrary: fc.constant('@contributor') },
      { weight: 1, arbitrary: fc.constantFrom('@foreign', '@coordinator', '@CONTRIBUTOR') },
      { weight: 2, arbitrary: uuidVariant },
      { weight: 1, arbitrary: nasty },
    );
    const jtiArb = fc.oneof(
      { weight: 10, arbitrary: fc.uuid() },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
      { weight: 1, arbitrary: nasty },
      { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 140 }) },
    );
    const siteArb = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), mutatedText(SAMPLE_VALUES.URL), nasty);
    const observedArb = fc.oneof(
      fc.constantFrom(
        '2026-01-01T00:00:00Z',
        '0001-01-01T00:00:00+15:59',
        '9999-12-31T23:59:60-15:59',
        '2024-02-29T12:00:00.123456789z',
        '2023-02-29T00:00:00Z',
        '2026-13-01T00:00:00Z',
        '1970-01-01t00:00:00+00:00',
        '0000-01-01T00:00:00Z',
      ),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      nasty,
    );
    const indicatorArb = fc.oneof(
      { weight: 8, arbitrary: evmAddress.map((value) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value })) },
      { weight: 2, arbitrary: fc.tuple(fc.domain(), fc.boolean()).map(([d, url]) => (url ? { kind: 'URL', value: `https://${d}/p` } : { kind: 'DOMAIN', value: d })) },
      { weight: 3, arbitrary: fc.record({ kind: kindArb, network: fc.option(networkArb, { nil: undefined }), value: anyValueText }, { requiredKeys: ['kind', 'value'] }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('MERCHANT_ID'),
          value: fc.record(
            { acquirer: fc.oneof(nasty, fc.constant('Acq One')), mid: fc.oneof(nasty, fc.constant('M-1')), mcc: junk, descriptor: junk, country: fc.oneof(fc.constantFrom('US', 'DE', 'XX', 'usa'), junk) },
            { requiredKeys: ['acquirer', 'mid'] },
          ),
        }),
      },
      { weight: 1, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('kind', 'network', 'value'), nasty), junk, { maxKeys: 4 }) },
      { weight: 1, arbitrary: junk },
    );
    const claimsArb = fc.record(
      {
        iss: issArb,
        jti: jtiArb,
        iat: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: NOW - 86400, max: NOW }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }) }),
        exp: fc.integer({ min: NOW - 100, max: NOW + 10 ** 9 }),
        indicator: indicatorArb,
        category: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('CSAM_COMMERCIAL', 'FRAUD', 'X_1') }, { weight: 1, arbitrary: nasty }),
        confidence: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: junk }),
        tlp: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TLPS) }, { weight: 1, arbitrary: nasty }),
        shareWith: fc.oneof(
          { weight: 4, arbitrary: fc.array(fc.constantFrom('@foreign-member', '@screener-member'), { maxLength: 3 }) },
          { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom('@foreign-member'), uuidVariant, nasty), { maxLength: 4 }) },
        ),
        evidence: fc.record(
          {
            sites: fc.oneof({ weight: 3, arbitrary: fc.array(fc.webUrl(), { maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(siteArb, { maxLength: 4 }) }),
            reference: fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) }, { weight: 1, arbitrary: nasty }),
            observedAt: fc.oneof({ weight: 3, arbitrary: fc.constant('2026-01-01T00:00:00Z') }, { weight: 1, arbitrary: observedArb }),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['iss', 'jti', 'iat', 'indicator', 'category', 'confidence', 'tlp'] },
    );
    /** Valid claims with random content: what gets through must be stored exactly and answered ok. */
    const validClaimsArb = fc.record(
      {
        iss: fc.constant('@contributor'),
        jti: fc.oneof(fc.uuid(), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((j) => !/[\p{Cc}\p{Cs}]/u.test(j)), fc.constant('j'.repeat(128))),
        iat: fc.integer({ min: NOW - 10 * 365 * 86400, max: NOW + 59 }),
        exp: fc.integer({ min: NOW + 120, max: 253402300799 }),
        indicator: fc.oneof(
          fc.tuple(evmAddress, fc.constantFrom('ethereum', 'polygon', 'bsc')).map(([value, network]) => ({ kind: 'WALLET_ADDRESS', network, value })),
          fc.domain().map((value) => ({ kind: 'DOMAIN', value })),
          fc.webUrl({ withQueryParameters: true, withFragments: true }).map((value) => ({ kind: 'URL', value })),
          fc
            .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }))
            .map(([acquirer, mid]) => ({ kind: 'MERCHANT_ID', value: { acquirer, mid } })),
        ),
        category: fc.constantFrom(...FUZZ_CATEGORIES),
        confidence: fc.integer({ min: 0, max: 100 }),
        tlp: fc.constantFrom(...TLPS),
        shareWith: fc.array(fc.constantFrom('@foreign-member', '@screener-member'), { maxLength: 2 }),
        evidence: fc.record(
          {
            sites: fc.array(fc.webUrl({ withQueryParameters: true }), { maxLength: 3 }),
            reference: fc.string({ unit: 'grapheme', maxLength: 80 }).filter((r) => !/[\p{Cc}\p{Cs}]/u.test(r.replace(/[\n\t]/g, ''))),
            observedAt: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['iss', 'jti', 'iat', 'indicator', 'category', 'confidence', 'tlp'] },
    );
    const mutationArb = fc.record({
      name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CLAIM_NAMES) }, { weight: 1, arbitrary: nasty }),
      value: fc.oneof({ weight: 3, arbitrary: junk }, { weight: 1, arbitrary: fc.constant<unknown>(DELETE) }),
    });
    const mutationsArb = fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) });
    const payloadArb = fc.tuple(claimsArb, mutationsArb).map(([claims, mutations]) => {
      const out: Record<string, unknown> = { ...claims };
      for (const m of mutations) {
        if (m.value === DELETE) delete out[m.name];
        else setKey(out, m.name, m.value);
      }
      return out;
    });
    const headerArb = fc.oneof(
      { weight: 8, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('typ', 'kid', 'crit', 'jwk', 'b64', 'zip', 'cty'), nasty), junk, { minKeys: 1, maxKeys: 2 }),
      },
    );
    const textOp = fc.record({ op: fc.constantFrom('huge', 'dupkey', 'bom', 'trail', 'proto', 'nul', 'cut', 'deep'), at: fc.nat() });
    const signed = fc.record({
      t: fc.constant('signed' as const),
      signer: fc.oneof({ weight: 8, arbitrary: fc.constant<SignerName>('contributor') }, { weight: 1, arbitrary: fc.constantFrom<SignerName>('foreign', 'coordinator', 'screener', 'stranger') }),
      header: headerArb,
      payload: fc.oneof({ weight: 9, arbitrary: payloadArb }, { weight: 1, arbitrary: junk }),
      text: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: textOp }),
    });
    const jwsLike = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.tuple(b64seg(), b64seg(), b64seg()).map((p) => p.join('.')),
      fc.array(b64seg(40), { maxLength: 6 }).map((p) => p.join('.')),
      fc
        .tuple(
          fc.oneof(
            fc.constant('@header'),
            fc.record({ alg: fc.oneof(fc.constantFrom('ES256', 'EdDSA', 'none', 'HS256', 'RS256', 'es256'), junk), kid: fc.oneof(fc.constant('@kid'), b64seg(45), junk), typ: fc.oneof(fc.constant('cordon-statement+jwt'), junk) }, { requiredKeys: [] }),
            junk,
          ),
          fc.oneof(payloadArb, junk),
          b64seg(90),
        )
        .map(([h, p, s]) => ({ h, p, s }))
        .map((x) => `@H${JSON.stringify(x)}`), // resolved in materialise (keys are known only at run time)
      fc.integer({ min: 1, max: 3 }).map((n) => `${'A'.repeat(70_000 * n)}.e30.AA`),
    );
    return fc.oneof(
      { weight: 2, arbitrary: jwsLike.map((jws) => ({ t: 'raw' as const, jws })) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('mutated' as const), base: fc.nat(7), op: fc.constantFrom('set', 'del', 'ins', 'cut', 'swap', 'dot', 'case', 'wrap', 'std', 'twice'), at: fc.nat(), ch: fc.constantFrom(...B64URL, '.', '=', '+', '/', ' ', '\u0000', 'é') }) },
      { weight: 4, arbitrary: signed },
      { weight: 3, arbitrary: validClaimsArb.map((payload) => ({ t: 'signed' as const, signer: 'contributor' as const, header: {}, payload })) },
    );
  }

  const signerKey = (name: SignerName): TestKey =>
    ({ contributor: contributor.key, foreign: foreign.key, coordinator: coordinator.key, screener: screener.key, stranger })[name];

  /** Replaces the @placeholders with the run's real ids. */
  function resolve(value: unknown): unknown {
    if (typeof value === 'string') {
      const map: Record<string, string> = {
        '@contributor': contributor.principalId,
        '@CONTRIBUTOR': contributor.principalId.toUpperCase(),
        '@foreign': foreign.principalId,
        '@coordinator': coordinator.principalId,
        '@foreign-member': foreign.memberId,
        '@screener-member': screener.memberId,
        '@kid': contributor.key.kid,
      };
      return map[value] ?? value;
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  }

  function mutateText(text: string, op: string, at: number): string {
    const i = at % Math.max(1, text.length);
    switch (op) {
      case 'huge':
        return text.replace(/(-?\d+)(?=[,}\]])/, '1e400');
      case 'dupkey':
        return text.replace(/^\{/, '{"jti":"dup",');
      case 'bom':
        return `\ufeff${text}`;
      case 'trail':
        return `${text} x`;
      case 'proto':
        return text.replace(/^\{/, '{"__proto__":{"iss":"x"},');
      case 'nul':
        return text.slice(0, i) + '\\u0000' + text.slice(i);
      case 'cut':
        return text.slice(0, i);
      case 'deep':
        return `${'['.repeat(5000)}${']'.repeat(5000)}`;
      default:
        return text;
    }
  }

  async function materialise(c: StatementCase): Promise<string> {
    if (c.t === 'raw') {
      if (!c.jws.startsWith('@H{')) return c.jws;
      const { h, p, s } = resolve(JSON.parse(c.jws.slice(2))) as { h: unknown; p: unknown; s: string };
      const header = h === '@header' ? { alg: contributor.key.privateJwk.alg, kid: contributor.key.kid, typ: 'cordon-statement+jwt' } : h;
      return `${b64urlJson(header)}.${b64urlJson(p)}.${s}`;
    }
    if (c.t === 'mutated') {
      const base = validJws[c.base % validJws.length];
      const i = c.at % base.length;
      const [h, p, s] = base.split('.');
      switch (c.op) {
        case 'set':
          return base.slice(0, i) + c.ch + base.slice(i + 1);
        case 'del':
          return base.slice(0, i) + base.slice(i + 1);
        case 'ins':
          return base.slice(0, i) + c.ch + base.slice(i);
        case 'cut':
          return base.slice(0, i);
        case 'swap':
          return [p, h, s].join('.');
        case 'dot':
          return `${base}.`;
        case 'case':
          return base.toUpperCase();
        case 'wrap':
          return ` ${base}\n`;
        case 'std':
          return `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}==`;
        default:
          return `${base}${base}`;
      }
    }
    const key = signerKey(c.signer);
    const payload = resolve(c.payload);
    let text = JSON.stringify(payload) ?? 'null';
    if (c.text) text = mutateText(text, c.text.op, c.text.at);
    const header = { alg: key.privateJwk.alg, kid: key.kid, typ: 'cordon-statement+jwt', ...(resolve(c.header) as object) };
    const k = await jose.importJWK(key.privateJwk, key.privateJwk.alg);
    try {
      return await new jose.CompactSign(new TextEncoder().encode(text)).setProtectedHeader(header as jose.CompactJWSHeaderParameters).sign(k);
    } catch {
      // jose refuses some headers (e.g. a non-string alg); sign the honest header and splice the odd one in.
      const honest = await new jose.CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg: key.privateJwk.alg, kid: key.kid, typ: 'cordon-statement+jwt' }).sign(k);
      const [, p, s] = honest.split('.');
      return `${b64urlJson(header)}.${p}.${s}`;
    }
  }

  type Outcome = { ok: boolean; code: string | null; error: string | null; result: { statement: { id: string }; indicator: { id: string } } | null };

  /** Expected row changes of accepted outcomes: statements and indicators not seen before. */
  function acceptedDelta(outcomes: Outcome[]): Delta {
    const statements = new Set<string>();
    const indicators = new Set<string>();
    for (const o of outcomes) {
      if (!o.ok || !o.result) continue;
      if (!knownStatements.has(o.result.statement.id)) statements.add(o.result.statement.id);
      if (!knownIndicators.has(o.result.indicator.id)) indicators.add(o.result.indicator.id);
    }
    statements.forEach((s) => knownStatements.add(s));
    acceptedStatements += statements.size;
    indicators.forEach((s) => knownIndicators.add(s));
    return { statement: statements.size, indicator: indicators.size };
  }

  function checkOutcome(o: Outcome, input: unknown, where: string): void {
    if (o.ok) {
      if (!o.result || o.code !== null || o.error !== null) fail(`${where}: ok outcome without a result`, { input, o });
    } else {
      if (o.result !== null) fail(`${where}: refused outcome with a result`, { input, o });
      if (!o.code || !STATEMENT_CODES.has(o.code)) fail(`${where}: unknown refusal code ${o.code}`, { input, o });
      if (!o.error || !NAMES_FIELD.test(o.error)) fail(`${where}: refusal does not name the field`, { input, o });
    }
  }

  it('submitStatements: generated JWSs get one outcome each, refusals name the field, nothing stored for them', async () => {
    const MANY = `mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code error result { statement { id } indicator { id } } } }`;
    await property(fc.array(statementCases(), { minLength: 100, maxLength: 220 }), 14, async (specs) => {
      await guarded('submitStatements items', async () => {
        const jws = await Promise.all(specs.map(materialise));
        const res = await app.gql<{ submitStatements: Outcome[] }>(MANY, { jws }, contributor.key);
        checkResponse(res, 'submitStatements', specs.length);
        if (res.errors || !res.data) fail('submitStatements: the batch failed as a whole', res.errors);
        const outcomes = res.data.submitStatements;
        if (outcomes.length !== jws.length) fail(`submitStatements: ${outcomes.length} outcomes for ${jws.length} items`);
        outcomes.forEach((o, i) => {
          checkOutcome(o, { spec: specs[i], jws: jws[i].slice(0, 400) }, 'submitStatements');
          const key = o.ok ? 'ok' : `${o.code} ${o.error!.slice(0, 90)}`;
          outcomeTally[key] = (outcomeTally[key] ?? 0) + 1;
        });
        return { n: specs.length, delta: acceptedDelta(outcomes) };
      });
    });
  });

  it('submitStatement: a generated JWS is accepted or refused with a statement code naming the field', async () => {
    const ONE = `mutation($j: String!) { submitStatement(jws: $j) { statement { id } indicator { id } } }`;
    await property(fc.array(statementCases(), { minLength: 20, maxLength: 20 }), 8, async (specs) => {
      await guarded('submitStatement calls', async () => {
        const jws = await Promise.all(specs.map(materialise));
        const outcomes = await pool(jws, 6, async (j, i): Promise<Outcome> => {
          const res = await app.gql<{ submitStatement: Outcome['result'] }>(ONE, { j }, contributor.key);
          checkResponse(res, 'submitStatement', { spec: specs[i], jws: j.slice(0, 400) }, STATEMENT_CODES);
          if (res.errors) {
            if (res.errors.length !== 1 || res.data?.submitStatement) fail('submitStatement: a refusal is one error and no data', res);
            return { ok: false, code: null, error: null, result: null };
          }
          return { ok: true, code: null, error: null, result: res.data!.submitStatement };
        });
        return { n: specs.length, delta: acceptedDelta(outcomes) };
      });
    });
  });

  /* ---------------------------------------------------------------- members and principals */

  it('createMember / createPrincipal / addPrincipalKey: random names, roles and JWKs are accepted or refused by field', async () => {
    const jwkMembers = ['kty', 'crv', 'x', 'y', 'alg', 'kid', 'use', 'key_ops', 'ext', 'd', 'k', 'x5u', 'jku', 'n', 'e'];
    const jwkArb = fc.oneof(
      { weight: 2, arbitrary: fc.nat(23).map((i) => `@fresh${i}`) },
      {
        weight: 4,
        arbitrary: fc.record({
          base: fc.nat(23),
          edits: fc.array(
            fc.record({
              name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...jwkMembers) }, { weight: 1, arbitrary: nasty }),
              value: fc.oneof(junk, fc.constant<unknown>(DELETE), fc.constantFrom('EC', 'OKP', 'RSA', 'oct', 'P-256', 'P-384', 'Ed25519', 'X25519', 'ES256', 'EdDSA', 'sig', 'enc', ['verify'], ['sign'], true)),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        }),
      },
      { weight: 1, arbitrary: fc.nat(23).map((i) => `@private${i}`) },
      { weight: 1, arbitrary: junk },
    );
    const nameArb = fc.oneof({ weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) }, { weight: 3, arbitrary: nasty });
    const memberIdArb = fc.oneof(fc.constantFrom('@contributor-member', '@foreign-member', '@coordinator-member', '@screener-member'), uuidVariant, nasty);
    const op = fc.oneof(
      fc.record({ op: fc.constant('createMember' as const), name: nameArb, kind: fc.constantFrom(...MEMBER_KINDS) }),
      fc.record({
        op: fc.constant('createPrincipal' as const),
        memberId: memberIdArb,
        name: nameArb,
        roles: fc.array(fc.constantFrom(...ROLES), { maxLength: 7 }),
        publicJwk: jwkArb,
      }),
      fc.record({ op: fc.constant('addPrincipalKey' as const), principalId: fc.oneof(fc.constant('@screener'), uuidVariant, nasty), publicJwk: jwkArb }),
    );
    const resolveJwk = (spec: unknown): unknown => {
      if (typeof spec === 'string' && spec.startsWith('@fresh')) return freshKeys[Number(spec.slice(6))].publicJwk;
      if (typeof spec === 'string' && spec.startsWith('@private')) return freshKeys[Number(spec.slice(8))].privateJwk;
      if (spec && typeof spec === 'object' && 'edits' in spec) {
        const s = spec as { base: number; edits: { name: string; value: unknown }[] };
        const jwk: Record<string, unknown> = { ...freshKeys[s.base].publicJwk };
        for (const e of s.edits) {
          if (e.value === DELETE) delete jwk[e.name];
          else setKey(jwk, e.name, e.value);
        }
        return jwk;
      }
      return spec;
    };
    const ids = () =>
      ({
        '@contributor-member': contributor.memberId,
        '@foreign-member': foreign.memberId,
        '@coordinator-member': coordinator.memberId,
        '@screener-member': screener.memberId,
        '@screener': screener.principalId,
      }) as Record<string, string>;
    await property(fc.array(op, { minLength: 30, maxLength: 30 }), 10, async (ops) => {
      await guarded('member/principal inputs', async () => {
        const delta: Required<Pick<Delta, 'member' | 'principal' | 'principal_key'>> = { member: 0, principal: 0, principal_key: 0 };
        await pool(ops, 6, async (o) => {
          let res: Answer;
          if (o.op === 'createMember') {
            res = await gql('mutation($i: CreateMemberInput!) { createMember(input: $i) { id name } }', { i: { name: o.name, kind: o.kind } }, app.admin);
            if (res.data?.createMember) delta.member++;
          } else if (o.op === 'createPrincipal') {
            const i = { memberId: ids()[o.memberId] ?? o.memberId, name: o.name, roles: o.roles, publicJwk: resolveJwk(o.publicJwk) };
            res = await gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id keys { kid } } }', { i }, app.admin);
            if (res.data?.createPrincipal) {
              delta.principal++;
              delta.principal_key++;
            }
          } else {
            res = await gql(
              'mutation($p: ID!, $k: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $k) { kid } }',
              { p: ids()[o.principalId] ?? o.principalId, k: resolveJwk(o.publicJwk) },
              app.admin,
            );
            if (res.data?.addPrincipalKey) delta.principal_key++;
          }
          const ctorKey = o.op === 'createPrincipal' && /"constructor":/.test(JSON.stringify(resolveJwk(o.publicJwk)) ?? '');
          checkResponse(res, o.op, o, undefined, ctorKey ? 'constructorKey' : undefined);
          if (res.errors && res.data && Object.values(res.data).some((v) => v)) fail(`${o.op}: an error and data`, res);
          if (JSON.stringify(res).includes('"d":"')) fail(`${o.op}: a private key was echoed`, res);
        });
        return { n: ops.length, delta };
      });
    });
  });

  /* ---------------------------------------------------------------- free text on real targets */

  it('free text (reasons, notes) and exclusion inputs on real targets: accepted, or refused by field without a trace', async () => {
    const throwaway = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    const targets = [...knownIndicators];
    const disputeIds = ((await app.gql('{ disputes(first: 5) { edges { node { id } } } }')).data!.disputes.edges as { node: { id: string } }[]).map((e) => e.node.id);
    const textArb = fc.oneof({ weight: 1, arbitrary: fc.constant('a plain reason') }, { weight: 4, arbitrary: nasty });
    const op = fc.oneof(
      fc.record({ op: fc.constant('addExclusion' as const), kind: kindArb, network: fc.option(networkArb, { nil: undefined }), value: anyValueText, text: textArb }),
      fc.record({ op: fc.constantFrom('disputeIndicator' as const, 'reportSighting' as const), target: fc.nat(), text: textArb }),
      fc.record({ op: fc.constantFrom('suspendMember' as const, 'reinstateMember' as const, 'disablePrincipal' as const, 'enablePrincipal' as const, 'resolveDispute' as const), target: fc.nat(), text: textArb }),
    );
    const DOCS = {
      addExclusion: 'mutation($i: ExclusionInput!) { addExclusion(input: $i) { id } }',
      disputeIndicator: 'mutation($id: ID!, $t: String!) { disputeIndicator(id: $id, reason: $t) { id } }',
      reportSighting: 'mutation($id: ID!, $t: String) { reportSighting(indicatorId: $id, kind: FALSE_POSITIVE, note: $t) { id } }',
      suspendMember: 'mutation($id: ID!, $t: String!) { suspendMember(id: $id, reason: $t) { id } }',
      reinstateMember: 'mutation($id: ID!, $t: String) { reinstateMember(id: $id, note: $t) { id } }',
      disablePrincipal: 'mutation($id: ID!, $t: String!) { disablePrincipal(id: $id, reason: $t) { id } }',
      enablePrincipal: 'mutation($id: ID!) { enablePrincipal(id: $id) { id } }',
      resolveDispute: 'mutation($id: ID!, $t: String) { resolveDispute(id: $id, upheld: false, note: $t) { id } }',
    };
    await property(fc.array(op, { minLength: 30, maxLength: 30 }), 8, async (ops) => {
      await guarded('free-text inputs', async () => {
        const delta: Delta = { exclusion: 0, dispute: 0 };
        // Sequential: several ops flip the same member, principal or dispute.
        for (const o of ops) {
          let vars: Record<string, unknown>;
          let key: TestKey = coordinator.key;
          if (o.op === 'addExclusion') vars = { i: { kind: o.kind, network: o.network, value: o.value, reason: o.text } };
          else if (o.op === 'disputeIndicator' || o.op === 'reportSighting') {
            vars = { id: targets[o.target % targets.length], t: o.text };
            key = o.target % 2 ? contributor.key : foreign.key;
          } else if (o.op === 'resolveDispute') vars = { id: disputeIds[o.target % Math.max(1, disputeIds.length)] ?? throwaway.memberId, t: o.text };
          else if (o.op === 'suspendMember' || o.op === 'reinstateMember') {
            vars = { id: throwaway.memberId, t: o.text };
            key = app.admin;
          } else {
            vars = { id: throwaway.principalId, t: o.text };
            key = app.admin;
          }
          const res = await gql(DOCS[o.op], vars, key);
          if (!checkResponse(res, `free text (${o.op})`, o, undefined, hasLoneSurrogate(o.text) ? 'surrogateText' : undefined)) continue;
          const data = res.data?.[o.op] as { id: string } | null | undefined;
          if (data && o.op === 'addExclusion') delta.exclusion!++;
          if (data && o.op === 'disputeIndicator') {
            delta.dispute!++;
            disputeIds.push(data.id);
          }
          if (data && res.errors?.length) fail(`${o.op}: data and an error`, res);
        }
        return { n: ops.length, delta };
      });
    });
  });

  /* ---------------------------------------------------------------- IDs */

  it('ID arguments of queries: random strings answer null or BAD_USER_INPUT naming the argument', async () => {
    const QUERIES = {
      member: 'member(id: $v) { id }',
      indicator: 'indicator(id: $v) { id }',
      principal: 'principal(id: $v) { id }',
      dispute: 'dispute(id: $v) { id }',
      disputesOf: 'disputes(indicatorId: $v) { edges { cursor } }',
      auditActor: 'auditEvents(first: 1, filter: { actorPrincipalId: $v }) { edges { cursor } }',
      indicatorsOfMember: 'indicators(first: 1, filter: { member: $v }) { edges { cursor } }',
    } as const;
    const item = fc.record({ q: fc.constantFrom(...(Object.keys(QUERIES) as (keyof typeof QUERIES)[])), id: idArb });
    await property(fc.tuple(fc.array(item, { minLength: 15, maxLength: 15 }), fc.constantFrom('admin', 'contributor')), 40, async ([items, who]) => {
      await guarded('query IDs', async () => {
        const doc = `query(${items.map((_, i) => `$v${i}: ID!`).join(', ')}) { ${items.map((it, i) => `a${i}: ${QUERIES[it.q].replace('$v', `$v${i}`)}`).join(' ')} }`;
        const res = await app.gql(doc, Object.fromEntries(items.map((it, i) => [`v${i}`, it.id])), who === 'admin' ? app.admin : contributor.key);
        checkResponse(res, 'query IDs', items);
        for (const e of res.errors ?? []) {
          const it = items[Number(String(e.path?.[0] ?? 'a-1').slice(1))];
          if (!['BAD_USER_INPUT', 'FORBIDDEN'].includes(e.extensions!.code!)) fail('query IDs: unexpected error', { it, e });
          if (e.extensions!.code === 'BAD_USER_INPUT' && !/^(id|indicatorId|filter\.\w+|member|filter): /.test(e.message)) fail('query IDs: error names another field', { it, e });
        }
        return { n: items.length };
      });
    });
  });

  it('ID arguments of mutations: random strings are refused (NOT_FOUND / BAD_USER_INPUT naming the argument) and change nothing', async () => {
    const MUTATIONS: Record<string, { doc: string; key: () => TestKey }> = {
      suspendMember: { doc: 'mutation($v: ID!, $t: String!) { suspendMember(id: $v, reason: $t) { id } }', key: () => app.admin },
      reinstateMember: { doc: 'mutation($v: ID!, $t: String) { reinstateMember(id: $v, note: $t) { id } }', key: () => app.admin },
      disablePrincipal: { doc: 'mutation($v: ID!, $t: String!) { disablePrincipal(id: $v, reason: $t) { id } }', key: () => app.admin },
      enablePrincipal: { doc: 'mutation($v: ID!) { enablePrincipal(id: $v) { id } }', key: () => app.admin },
      setPrincipalRoles: { doc: 'mutation($v: ID!) { setPrincipalRoles(id: $v, roles: [SCREENER]) { id } }', key: () => app.admin },
      revokePrincipalKey: { doc: 'mutation($v: ID!, $t: String!) { revokePrincipalKey(kid: $v, reason: $t) { kid } }', key: () => app.admin },
      reviewIndicator: { doc: 'mutation($v: ID!, $t: String) { reviewIndicator(id: $v, decision: APPROVE, note: $t) { id } }', key: () => coordinator.key },
      reviewIndicators: { doc: 'mutation($v: ID!, $t: String) { reviewIndicators(items: [{ id: $v, decision: REJECT, note: $t }]) { id ok code error } }', key: () => coordinator.key },
      revokeIndicator: { doc: 'mutation($v: ID!, $t: String!) { revokeIndicator(id: $v, reason: $t) { id } }', key: () => coordinator.key },
      expireIndicator: { doc: 'mutation($v: ID!) { expireIndicator(id: $v) { id } }', key: () => coordinator.key },
      disputeIndicator: { doc: 'mutation($v: ID!, $t: String!) { disputeIndicator(id: $v, reason: $t) { id } }', key: () => contributor.key },
      resolveDispute: { doc: 'mutation($v: ID!, $t: String) { resolveDispute(id: $v, upheld: false, note: $t) { id } }', key: () => coordinator.key },
      removeExclusion: { doc: 'mutation($v: ID!) { removeExclusion(id: $v) { id } }', key: () => coordinator.key },
      reportSighting: { doc: 'mutation($v: ID!, $t: String) { reportSighting(indicatorId: $v, kind: SEEN, note: $t) { id } }', key: () => contributor.key },
      acknowledgeNotification: { doc: 'mutation($v: ID!) { acknowledgeNotification(id: $v) { id } }', key: () => contributor.key },
      addPrincipalKeyTo: { doc: 'mutation($v: ID!) { addPrincipalKey(principalId: $v, publicJwk: { kty: "OKP" }) { kid } }', key: () => app.admin },
    };
    const item = fc.record({ m: fc.constantFrom(...Object.keys(MUTATIONS)), id: fc.oneof(idArb, b64seg(50)), text: fc.oneof(fc.constant('because'), nasty) });
    await property(fc.array(item, { minLength: 30, maxLength: 30 }), 12, async (items) => {
      await guarded('mutation IDs', async () => {
        await pool(items, 6, async (it) => {
          const { doc, key } = MUTATIONS[it.m];
          const res = await app.gql(doc, { v: it.id, t: it.text }, key());
          checkResponse(res, `mutation IDs (${it.m})`, it);
          if (it.m === 'reviewIndicators') {
            const out = (res.data?.reviewIndicators as { ok: boolean; code: string; error: string }[] | undefined) ?? [];
            for (const o of out) {
              if (o.ok) fail('reviewIndicators: a random id was accepted', { it, o });
              if (!KNOWN_CODES.has(o.code) || !NAMES_FIELD.test(o.error)) fail('reviewIndicators: item refusal without known code or field', { it, o });
            }
          } else if (!res.errors?.length) fail(`${it.m}: a random id was accepted`, { it, res });
        });
        return { n: items.length };
      });
    });
  });

  /* ---------------------------------------------------------------- cursors and page sizes */

  it('cursors (after) and page sizes (first) of indicators, changes, auditEvents, disputes, reviewQueue', async () => {
    const FIELDS = ['indicators', 'changes', 'auditEvents', 'disputes', 'reviewQueue'] as const;
    const tags = fc.oneof(fc.constantFrom('indicators', 'changes', 'disputes', 'queue', 'audit'), nasty);
    const cursorArb = fc.oneof(
      { weight: 2, arbitrary: nasty },
      { weight: 1, arbitrary: b64seg(80) },
      { weight: 2, arbitrary: junk.map((v) => b64urlJson(v)) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(tags, fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), minLength: 1, maxLength: 25 }), junk), fc.oneof(fc.uuid(), uuidVariant, junk))
          .map((t) => b64urlJson(t)),
      },
      { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constant('audit'), tags), fc.oneof(fc.integer(), fc.constantFrom(2 ** 53, -1, 1.5, 1e300), junk)).map((t) => b64urlJson(t)) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(4), fc.nat(), fc.constantFrom(...B64URL, '=', '.', '%')).map(([i, at, ch]) => ['@cursor', i, at, ch] as const).map((t) => JSON.stringify(t)) },
    );
    const firstArb = fc.option(fc.oneof(fc.integer({ min: -5, max: 600 }), fc.integer(), fc.constantFrom(0, 1, 500, 501, -(2 ** 31), 2 ** 31 - 1)), { nil: null, freq: 3 });
    const item = fc.record({ field: fc.constantFrom(...FIELDS), after: fc.option(cursorArb, { nil: null, freq: 8 }), first: firstArb });
    const real = (c: string | null): string | null => {
      if (!c || !c.startsWith('["@cursor"')) return c;
      const [, i, at, ch] = JSON.parse(c) as [string, number, number, string];
      const base = realCursors[i % realCursors.length] ?? '';
      const p = at % Math.max(1, base.length);
      return at % 3 === 0 ? base : base.slice(0, p) + ch + base.slice(p + 1);
    };
    await property(fc.array(item, { minLength: 30, maxLength: 30 }), 10, async (items) => {
      await guarded('cursors and page sizes', async () => {
        await pool(items, 8, async (it) => {
          const doc = `query($f: Int, $c: String) { ${it.field}(first: $f, after: $c) { edges { cursor } pageInfo { endCursor hasNextPage } } }`;
          const res = await app.gql(doc, { f: it.first, c: real(it.after) }, app.admin);
          checkResponse(res, 'cursors', it);
          for (const e of res.errors ?? []) {
            if (e.extensions?.code !== 'BAD_USER_INPUT' || !/^(after|first): /.test(e.message)) fail('cursors: refused otherwise than BAD_USER_INPUT on after/first', { it, e });
          }
          const conn = res.data?.[it.field] as { edges: unknown[] } | null | undefined;
          if (conn && it.first !== null && conn.edges.length > it.first) fail('cursors: more edges than first', { it, got: conn.edges.length });
          if (!conn && !res.errors?.length) fail('cursors: neither data nor error', { it, res });
          if (conn && (it.first !== null && (it.first < 1 || it.first > 500))) fail('cursors: an out-of-range first was accepted', { it });
        });
        return { n: items.length };
      });
    });
  });

  it('filters of indicators, auditEvents and disputes: random values answer a page or BAD_USER_INPUT naming the filter field', async () => {
    const dateish = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00+14:00', '2026-02-30T00:00:00Z', '2026-01-01', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z'),
      nasty,
    );
    const item = fc.oneof(
      fc.record({
        q: fc.constant('indicators' as const),
        filter: fc.record(
          { kind: fc.constantFrom(...KINDS), status: fc.constantFrom('ACTIVE', 'PENDING', 'DISPUTED', 'REVOKED'), network: fc.oneof(networkArb, nasty), member: idArb, updatedSince: dateish },
          { requiredKeys: [] },
        ),
      }),
      fc.record({
        q: fc.constant('auditEvents' as const),
        filter: fc.record({ action: nasty, actorPrincipalId: idArb, actorMemberId: idArb, since: dateish, until: dateish }, { requiredKeys: [] }),
      }),
      fc.record({ q: fc.constant('disputes' as const), filter: fc.record({ status: fc.oneof(fc.constantFrom('OPEN', 'UPHELD', 'REJECTED', 'open'), nasty), indicatorId: idArb }, { requiredKeys: [] }) }),
    );
    const DOCS = {
      indicators: 'query($x: IndicatorFilter) { indicators(first: 5, filter: $x) { edges { cursor } } }',
      auditEvents: 'query($x: AuditEventFilter) { auditEvents(first: 5, filter: $x) { edges { cursor } } }',
      disputes: 'query($status: String, $indicatorId: ID) { disputes(first: 5, status: $status, indicatorId: $indicatorId) { edges { cursor } } }',
    };
    await property(fc.array(item, { minLength: 30, maxLength: 30 }), 8, async (items) => {
      await guarded('filters', async () => {
        await pool(items, 8, async (it) => {
          const vars = it.q === 'disputes' ? (it.filter as Record<string, unknown>) : { x: it.filter };
          const res = await app.gql(DOCS[it.q], vars, app.admin);
          const f = it.filter as { since?: unknown; until?: unknown };
          if (!checkResponse(res, `filters (${it.q})`, it, undefined, it.q === 'auditEvents' && (isBadDate(f.since) || isBadDate(f.until)) ? 'invalidDate' : undefined)) return;
          for (const e of res.errors ?? []) {
            if (e.extensions?.code !== 'BAD_USER_INPUT') fail('filters: refused otherwise than BAD_USER_INPUT', { it, e });
          }
          if (!res.data?.[it.q] && !res.errors?.length) fail('filters: neither data nor error', { it, res });
        });
        return { n: items.length };
      });
    });
  });

  /* ---------------------------------------------------------------- variables of the wrong JSON types */

  it('raw GraphQL variables of the wrong JSON types are refused as BAD_USER_INPUT naming the variable', async () => {
    type Op = { doc: string; vars: () => Record<string, unknown>; effect?: (data: Record<string, unknown>) => Delta; key?: () => TestKey };
    const OPS: Record<string, Op> = {
      createMember: {
        doc: 'mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }',
        vars: () => ({ i: { name: 'Var Member', kind: 'CARD_PROCESSOR' } }),
        effect: (d) => (d.createMember ? { member: 1 } : {}),
      },
      createPrincipal: {
        doc: 'mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }',
        vars: () => ({ i: { memberId: screener.memberId, name: 'var-principal', roles: ['SCREENER'], publicJwk: freshKeys[23].publicJwk } }),
        effect: (d) => (d.createPrincipal ? { principal: 1, principal_key: 1 } : {}),
      },
      addPrincipalKey: {
        doc: 'mutation($p: ID!, $k: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $k) { kid } }',
        vars: () => ({ p: screener.principalId, k: freshKeys[22].publicJwk }),
        effect: (d) => (d.addPrincipalKey ? { principal_key: 1 } : {}),
      },
      addExclusion: {
        doc: 'mutation($i: ExclusionInput!) { addExclusion(input: $i) { id } }',
        vars: () => ({ i: { kind: 'DOMAIN', value: 'benign-var.example', reason: 'benign' } }),
        effect: (d) => (d.addExclusion ? { exclusion: 1 } : {}),
        key: () => coordinator.key,
      },
      screen: { doc: 'query($i: ScreenInput!) { screen(input: $i) { valid error } }', vars: () => ({ i: { kind: 'DOMAIN', value: 'example.com' } }) },
      screenBatch: { doc: 'query($i: [ScreenInput!]!) { screenBatch(inputs: $i) { valid error } }', vars: () => ({ i: [{ fingerprint: '0'.repeat(64) }] }) },
      screenByPrefix: { doc: 'query($p: String!, $n: Int) { screenByPrefix(prefix: $p, padTo: $n) { fingerprint } }', vars: () => ({ p: 'abcde', n: 3 }) },
      submitStatement: { doc: 'mutation($j: String!) { submitStatement(jws: $j) { receipt } }', vars: () => ({ j: 'a.b.c' }), key: () => contributor.key },
      submitStatements: { doc: 'mutation($j: [String!]!) { submitStatements(jws: $j) { ok code error } }', vars: () => ({ j: ['a.b.c'] }), key: () => contributor.key },
      indicators: {
        doc: 'query($f: Int, $a: String, $x: IndicatorFilter) { indicators(first: $f, after: $a, filter: $x) { edges { cursor } } }',
        vars: () => ({ f: 2, a: null, x: { kind: 'DOMAIN', status: 'ACTIVE', network: 'ethereum', updatedSince: '2020-01-01T00:00:00Z' } }),
      },
      changes: { doc: 'query($f: Int, $a: String) { changes(first: $f, after: $a) { edges { cursor } } }', vars: () => ({ f: 2, a: null }) },
      auditEvents: {
        doc: 'query($f: Int, $a: String, $x: AuditEventFilter) { auditEvents(first: $f, after: $a, filter: $x) { edges { cursor } } }',
        vars: () => ({ f: 2, a: null, x: { action: 'screen', since: '2020-01-01T00:00:00Z', until: '2100-01-01T00:00:00Z' } }),
      },
      disputes: { doc: 'query($s: String, $f: Int, $a: String, $i: ID) { disputes(status: $s, first: $f, after: $a, indicatorId: $i) { edges { cursor } } }', vars: () => ({ s: 'OPEN', f: 2 }) },
      inclusion: { doc: 'query($i: BigInt!, $t: BigInt!) { auditInclusionProof(index: $i, treeSize: $t) { path } }', vars: () => ({ i: 0, t: 1 }) },
      consistency: { doc: 'query($a: BigInt!, $b: BigInt!) { auditConsistencyProof(fromSize: $a, toSize: $b) { path } }', vars: () => ({ a: 1, b: 2 }) },
      reviewIndicator: {
        doc: 'mutation($id: ID!, $d: ReviewDecision!, $n: String, $v: Int, $s: IndicatorStatus) { reviewIndicator(id: $id, decision: $d, note: $n, expectedVersion: $v, expectedStatus: $s) { id } }',
        vars: () => ({ id: '00000000-0000-4000-8000-000000000000', d: 'APPROVE', n: 'ok', v: 1, s: 'PENDING' }),
        key: () => coordinator.key,
      },
      reviewIndicators: {
        doc: 'mutation($items: [ReviewItemInput!]!) { reviewIndicators(items: $items) { ok code error } }',
        vars: () => ({ items: [{ id: '00000000-0000-4000-8000-000000000000', decision: 'REJECT' }] }),
        key: () => coordinator.key,
      },
      reportSighting: {
        doc: 'mutation($id: ID!, $k: SightingKind!, $n: String) { reportSighting(indicatorId: $id, kind: $k, note: $n) { id } }',
        vars: () => ({ id: '00000000-0000-4000-8000-000000000000', k: 'SEEN', n: null }),
        key: () => contributor.key,
      },
      setPrincipalRoles: { doc: 'mutation($id: ID!, $r: [Role!]!) { setPrincipalRoles(id: $id, roles: $r) { id } }', vars: () => ({ id: '00000000-0000-4000-8000-000000000000', r: ['SCREENER'] }) },
      notifications: { doc: 'query($f: Int, $u: Boolean) { notifications(first: $f, unreadOnly: $u) { id } }', vars: () => ({ f: 5, u: true }) },
      exclusions: { doc: 'query($r: Boolean) { exclusions(includeRemoved: $r) { id } }', vars: () => ({ r: false }), key: () => coordinator.key },
    };
    const edit = fc.record({
      op: fc.constantFrom(...Object.keys(OPS)),
      how: fc.constantFrom('replace', 'replace', 'nested', 'nested', 'drop', 'null', 'extra', 'wrap'),
      pick: fc.nat(),
      value: junk,
      extraName: nasty,
    });
    const applyEdit = (vars: Record<string, unknown>, e: { how: string; pick: number; value: unknown; extraName: string }) => {
      const names = Object.keys(vars);
      const name = names[e.pick % names.length];
      const v = vars[name];
      switch (e.how) {
        case 'replace':
          vars[name] = e.value;
          break;
        case 'drop':
          delete vars[name];
          break;
        case 'null':
          vars[name] = null;
          break;
        case 'wrap':
          vars[name] = [v];
          break;
        case 'extra':
          setKey(vars, e.extraName || 'extra', e.value);
          break;
        default: {
          const target = Array.isArray(v) ? (v[0] as Record<string, unknown> | undefined) : (v as Record<string, unknown> | null);
          if (target && typeof target === 'object') {
            const keys = Object.keys(target);
            if (e.pick % 4 === 3) setKey(target, e.extraName || 'extra', e.value);
            else setKey(target, keys[Math.floor(e.pick / 7) % Math.max(1, keys.length)] ?? 'x', e.value);
          } else vars[name] = e.value;
        }
      }
    };
    await property(fc.array(edit, { minLength: 25, maxLength: 25 }), 16, async (edits) => {
      await guarded('wrong-type variables', async () => {
        const delta: Delta = {};
        await pool(edits, 6, async (e) => {
          const op = OPS[e.op];
          const vars = op.vars();
          applyEdit(vars, e);
          const res = await gql(op.doc, vars, (op.key ?? (() => app.admin))());
          const x = (vars.x ?? {}) as { since?: unknown; until?: unknown };
          const badDate = e.op === 'auditEvents' && typeof x === 'object' && (isBadDate(x.since) || isBadDate(x.until));
          const ctorKey = e.op === 'createPrincipal' && /"constructor":/.test(JSON.stringify(vars));
          checkResponse(res, `variables (${e.op})`, { e, vars }, e.op === 'submitStatement' ? STATEMENT_CODES : new Set(), badDate ? 'invalidDate' : ctorKey ? 'constructorKey' : undefined);
          if (res.data && op.effect) for (const [t, n] of Object.entries(op.effect(res.data))) delta[t as Table] = (delta[t as Table] ?? 0) + (n ?? 0);
        });
        return { n: edits.length, delta };
      });
    });
  });

  it('literal arguments of the wrong type or shape in the document: never a 5xx, known codes', async () => {
    const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
    const toLiteral = (v: unknown, depth = 0): string => {
      if (v === null || v === undefined) return 'null';
      if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
      if (typeof v === 'boolean') return String(v);
      if (typeof v === 'string') return JSON.stringify(v);
      if (Array.isArray(v)) return depth > 4 ? '[]' : `[${v.map((x) => toLiteral(x, depth + 1)).join(', ')}]`;
      if (depth > 4) return '{}';
      return `{ ${Object.entries(v as Record<string, unknown>)
        .map(([k, x], i) => `${NAME.test(k) ? k : `k${i}`}: ${toLiteral(x, depth + 1)}`)
        .join(', ')} }`;
    };
    const literal = fc.oneof(
      { weight: 4, arbitrary: junk.map((v) => toLiteral(v)) },
      { weight: 2, arbitrary: fc.constantFrom('DOMAIN', 'BANK', 'APPROVE', 'true', 'null', '$undeclared', '1.5', '-0', '2147483648', '9007199254740993', '""', '"""block"""', '[]', '{}') },
      { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('DOMAIN', 'URL', 'X'), value: nasty, network: nasty }, { requiredKeys: [] }).map((o) => toLiteral(o).replace(/kind: "(\w+)"/, 'kind: $1')) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '(', ')', ':', '"', '\\', '$', '@', '#', ' ', 'a', '1', '.', '\n'), maxLength: 12 }) },
    );
    const TEMPLATES = [
      '{ indicators(first: L) { edges { cursor } } }',
      '{ indicators(after: L) { edges { cursor } } }',
      '{ indicators(filter: L) { edges { cursor } } }',
      '{ screen(input: L) { valid error } }',
      '{ screenBatch(inputs: L) { valid error } }',
      '{ screenByPrefix(prefix: L, padTo: 2) { fingerprint } }',
      '{ screenByPrefix(prefix: "abcde", padTo: L) { fingerprint } }',
      '{ member(id: L) { id } }',
      '{ auditInclusionProof(index: L, treeSize: 5) { path } }',
      '{ auditConsistencyProof(fromSize: 1, toSize: L) { path } }',
      '{ changes(first: L) { edges { cursor } } }',
      '{ disputes(status: L) { edges { cursor } } }',
      '{ auditEvents(first: 2, filter: L) { edges { cursor } } }',
      'mutation { createMember(input: L) { id } }',
      'mutation { submitStatement(jws: L) { receipt } }',
      'mutation { reviewIndicator(id: L, decision: APPROVE) { id } }',
    ];
    const item = fc.record({ template: fc.constantFrom(...TEMPLATES), literal });
    await property(fc.array(item, { minLength: 20, maxLength: 20 }), 10, async (items) => {
      await guarded('literal arguments', async () => {
        const delta: Delta = { member: 0 };
        await pool(items, 8, async (it) => {
          const doc = it.template.replace('L', it.literal);
          const res = await gql(doc, {}, it.template.includes('submitStatement') ? contributor.key : coordinator.key);
          const badDate = it.template.includes('auditEvents') && /(since|until):/.test(it.literal);
          checkResponse(res, 'literal arguments', doc.slice(0, 300), it.template.includes('submitStatement') ? STATEMENT_CODES : new Set(), badDate ? 'invalidDate' : 'literalUnnamed');
          if (res.data?.createMember) delta.member!++;
        });
        return { n: items.length, delta };
      });
    });
  });

  it('counts at least 10,000 generated cases', () => {
    const total = Object.values(cases).reduce((a, b) => a + b, 0);
    // eslint-disable-next-line no-console
    console.log(`fuzz: ${total} generated cases (seed ${SEED})`);
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});
