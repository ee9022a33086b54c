import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { type BenchServer, type Build, benchBuilds, type CpuReading, cpuReading, cpuUsed, metric, residentMiB, spawnServer, startBenchServer, withClient } from './server.js';
import { generateSigningKey, type PrivateJwk, signBearerToken, signStatement } from '@app/signing';

/**
 * `npm run bench screening`: for each scale in BENCH_SCALES (default 1,000,000; e.g.
 * `BENCH_SCALES=1000000,10000000`), a server and database seeded with that many ACTIVE wallet
 * indicators by set-based SQL (not the API), all running at once. Over HTTP:
 *
 * - screenBatch with 1,000- and 10,000-input batches of EVM addresses (~1 % hits), against the
 *   raw SQL lookup of the same keys (`pg`, `= ANY($1)`, no HTTP, no GraphQL — the issue's
 *   baseline — and the lookup the service runs, a LATERAL index probe per key) timed just before
 *   each pass; ROUNDS rounds per batch size, each round going through every scale in turn;
 * - single `screen` requests with autocannon at 32 connections, against the same server answering
 *   `{ __typename }` (authenticated the same way); ROUNDS rounds, each through every scale;
 *   requests/s, p50/p99 of the round with the median ratio;
 * - then scale by scale: the same single-screen load on two API processes, and the same batch and
 *   single measurements against a bare Nest + Apollo resolver running the raw lookup
 *   (bench/bare-server.ts, the other reference point: what the framework alone costs here),
 *   ROUNDS rounds each; the server's resident memory.
 *
 * With BENCH_BASELINE (bench/server.ts), every scale runs twice, on the baseline build's server and
 * database (seeded for its schema) and on this one's, measured in turn in every round; the
 * per-round ratios current / baseline of rates and of CPU seconds per 1,000 keys (server process
 * and PostgreSQL, from /proc) are reported.
 *
 * Per-round ratios, medians reported: this machine's speed drifts by tens of per cent within
 * minutes. Larger scales are compared with the base round by round (seconds apart, not minutes).
 * The scales share PostgreSQL's buffers: each raw run (a warm-up pass, then the timed one) warms
 * the keys of the pass that follows it.
 */
const SCALES = (process.env.BENCH_SCALES ?? process.env.BENCH_INDICATORS ?? '1000000').split(',').map(Number);
const KEYS = Number(process.env.BENCH_KEYS ?? 50_000);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = 32;
/** Rounds of every alternated measurement (screenBatch per batch size, single screens, the bare resolver's). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** BENCH_PARTS=batch,single,workers,bare runs only those parts (all by default), e.g. for profiling. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'batch,single,workers,bare,bulk,open,index').split(','));
/** Lines of each bulk pass (POST /v1/screen), ~1 % listed. */
const BULK_KEYS = Number(process.env.BENCH_BULK_KEYS ?? 500_000);

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const fingerprint = (value: string) => createHash('sha256').update(`WALLET_ADDRESS|ethereum|${value}`).digest('hex');

/**
 * The seed for a database whose schema predates per-statement state (migration 8): the indicator
 * row carried its derived status and aggregates. Used for a baseline build (BENCH_BASELINE); the
 * same coordinator statement is written, so both databases hold the same rows of evidence.
 */
const LEGACY_SEED = `WITH p AS (
    SELECT p.id AS principal, p.member_id AS member, k.kid FROM principal p JOIN principal_key k ON k.principal_id = p.id
     ORDER BY p.created_at LIMIT 1),
  ins AS (
    INSERT INTO indicator (kind, network, value, fingerprint, status, category, confidence, tlp, open_tlp, attestation_count, first_seen_at, last_seen_at)
    SELECT 'WALLET_ADDRESS', 'ethereum', v, encode(sha256(convert_to('WALLET_ADDRESS|ethereum|' || v, 'UTF8')), 'hex'),
           'ACTIVE', 'CSAM_COMMERCIAL', 80, 'CLEAR', true, 1, now(), now()
      FROM (SELECT '0x' || lpad(to_hex(n), 40, '0') AS v FROM generate_series($1::int, $2::int) AS n) s
    RETURNING id, value)
  INSERT INTO statement (id, indicator_id, issuer_principal_id, issuer_member_id, kid, jti, jws, sha256, issued_at, category, confidence, tlp, received_at)
  SELECT gen_random_uuid(), ins.id, p.principal, p.member, p.kid, 'seed-' || ins.value, 'seed', encode(sha256(convert_to(ins.value, 'UTF8')), 'hex'),
         now(), 'CSAM_COMMERCIAL', 80, 'CLEAR', now()
    FROM ins, p`;

async function seed(server: BenchServer, indicators: number): Promise<number> {
  const start = Date.now();
  const legacy = await withClient(server.dbUrl, async (c) => {
    const { rowCount } = await c.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'indicator' AND column_name = 'status'`);
    return (rowCount ?? 0) > 0;
  });
  // One indicator per n (address n) with its SPEC 3 fingerprint and one CLEAR statement by the
  // bootstrap coordinator (ACTIVE), in chunks of 1M.
  for (let from = 1; from <= indicators; from += 1_000_000) {
    const to = Math.min(indicators, from + 999_999);
    await withClient(server.dbUrl, (c) =>
      c.query(
        legacy
          ? LEGACY_SEED
          : `WITH p AS (
           SELECT p.id AS principal, p.member_id AS member, k.kid FROM principal p JOIN principal_key k ON k.principal_id = p.id
            ORDER BY p.created_at LIMIT 1),
         ins AS (
           INSERT INTO indicator (kind, network, value, fingerprint)
           SELECT 'WALLET_ADDRESS', 'ethereum', v, encode(sha256(convert_to('WALLET_ADDRESS|ethereum|' || v, 'UTF8')), 'hex')
             FROM (SELECT '0x' || lpad(to_hex(n), 40, '0') AS v FROM generate_series($1::int, $2::int) AS n) s
           RETURNING id, value),
         st AS (
           INSERT INTO statement (id, indicator_id, issuer_principal_id, issuer_member_id, kid, jti, jws, sha256, issued_at, category, confidence, tlp, received_at)
           SELECT gen_random_uuid(), ins.id, p.principal, p.member, p.kid, 'seed-' || ins.value, 'seed', encode(sha256(convert_to(ins.value, 'UTF8')), 'hex'),
                  now(), 'CSAM_COMMERCIAL', 80, 'CLEAR', now()
             FROM ins, p
           RETURNING id, indicator_id)
         INSERT INTO statement_state (statement_id, indicator_id, status) SELECT id, indicator_id, 'ACTIVE' FROM st`,
        [from, to],
      ),
    );
    if (indicators > 1_000_000) process.stdout.write(`  seeded ${to.toLocaleString()} of ${indicators.toLocaleString()}\n`);
  }
  await withClient(server.dbUrl, (c) => c.query(legacy ? 'VACUUM ANALYZE indicator, statement' : 'VACUUM ANALYZE indicator, statement, statement_state'));
  return (Date.now() - start) / 1000;
}

/** A GraphQL POST's headers, with a bearer token if any. */
const headers = (token: string | undefined): Record<string, string> => ({ 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) });

/**
 * autocannon against POST /graphql (with a fixed token, if any); `body(i)` varies the request.
 * A run with any failed request, non-2xx answer or GraphQL error fails.
 */
function load(server: { url: string }, token: string | undefined, body: (i: number) => string, overallRate?: number): Promise<autocannon.Result> {
  let n = 0;
  let failed = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${server.url}/graphql`,
        connections: CONNECTIONS,
        duration: LOAD_SECONDS,
        ...(overallRate ? { overallRate } : {}),
        method: 'POST',
        headers: headers(token),
        requests: [
          {
            setupRequest: (req) => ({ ...req, body: body(n++) }),
            // A GraphQL error comes with HTTP 200: count those too.
            onResponse: (_status, text) => {
              if (text.includes('"errors"')) failed++;
            },
          },
        ],
      },
      (err, result) => {
        if (err) reject(err);
        else if (result.non2xx > 0 || result.errors > 0 || failed > 0) reject(new Error(`load run had ${result.non2xx} non-2xx answers, ${result.errors} errors, ${failed} GraphQL errors`));
        else resolve(result);
      },
    );
  });
}

/**
 * BENCH_KEEP_SEED=1 keeps each scale's seeded database (cordon_bench_seed_<n>) for the next run
 * instead of seeding anew (10,000,000 indicators take many minutes to seed on 2 cores); the
 * bootstrap admin's key is kept in the database's comment. Drop them by hand when done.
 */
const KEEP_SEED = process.env.BENCH_KEEP_SEED === '1';

async function keptDatabase(indicators: number, build: Build) {
  const name = `cordon_bench_seed_${indicators}${build.name === 'baseline' ? '_baseline' : ''}`;
  const admin = new URL(process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const comment = await withClient(admin.toString(), async (c) => {
    const { rows } = await c.query(`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`, [name]);
    const kept = rows[0]?.comment as string | null | undefined;
    if (kept) return kept;
    // Absent, or a seed that did not finish (the comment is written last): start afresh.
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
    return undefined;
  });
  admin.pathname = `/${name}`;
  const seeded = comment !== undefined;
  const keys = comment !== undefined ? JSON.parse(comment) : await generateSigningKey('ES256');
  return { name, dbUrl: admin.toString(), admin: keys, seeded };
}

/** Index scans per index of the indicator table so far (PostgreSQL flushes these counters about once a second). */
async function indexScans(dbUrl: string): Promise<Map<string, number>> {
  await new Promise((r) => setTimeout(r, 1500));
  return withClient(dbUrl, async (c) => {
    const { rows } = await c.query(`SELECT indexrelname AS name, idx_scan::int AS n FROM pg_stat_user_indexes WHERE relname = 'indicator' AND indexrelname LIKE 'indicator_fingerprint%'`);
    return new Map(rows.map((r: { name: string; n: number }) => [r.name, r.n]));
  });
}

const chunks = <T>(xs: T[], size: number): T[][] => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/** POST /graphql with a prepared body; the answer's data, or throws with its errors. */
async function post<T>(server: { url: string }, token: string | undefined, body: string): Promise<T> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: headers(token),
    body,
  });
  const out = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!out.data) throw new Error(JSON.stringify(out.errors).slice(0, 500));
  return out.data;
}

interface RawRates {
  any: number;
  join: number;
  hits: number;
}
interface BatchFigures {
  rate: number;
  ratio: number;
  ratioJoin: number;
}
/** CPU seconds per 1,000 keys (batches) or requests (single screens) */
interface CpuFigures {
  server: number;
  postgres: number;
}
interface LoadRound {
  trivial: autocannon.Result;
  screen: autocannon.Result;
  ratio: number;
  /** during the screen run */
  cpu?: CpuFigures;
}
const perThousand = (used: CpuReading, units: number): CpuFigures => ({ server: (used.server / units) * 1000, postgres: (used.postgres / units) * 1000 });

/** One scale: its server, database and keys, and what was measured on it. */
interface Scale {
  indicators: number;
  build: Build;
  /** the scale's name in the report */
  label: string;
  server: BenchServer;
  origin: string;
  keys: string[];
  fingerprints: string[];
  /** the raw lookups, timed now */
  rawRun(): Promise<RawRates>;
  /** the raw runs of the screenBatch rounds (the reported baseline), in the same order on every scale */
  rawRuns: RawRates[];
  hits: number;
  /** a fresh token of the scale's screener (tokens live 5 minutes; the bench runs longer) */
  token(): Promise<string>;
  batch: Map<number, BatchFigures & { rounds: number[]; cpuRounds: CpuFigures[] }>;
  singleRounds: LoadRound[];
  indexScansUsed?: string;
  twoWorkers?: autocannon.Result;
  bare?: { batch: Map<number, BatchFigures>; rounds: LoadRound[] };
  memoryMiB?: number;
  /** the screening index: build time and the process's memory without and with it, after the seed */
  index?: { buildSeconds: number; withoutMiB: number; withMiB: number; bytes: number; catchUp?: CatchUp };
  /** single screens at half the measured maximum rate (autocannon overallRate) */
  openLoop?: { rate: number; result: autocannon.Result };
  bulkMeasure?: () => Promise<BulkRound>;
  bulkRounds?: BulkRound[];
}

/** Starts a scale's server on its database (kept or seeded) with a screener principal. */
async function openScale(indicators: number, build: Build, builds: number): Promise<Scale> {
  const kept = KEEP_SEED ? await keptDatabase(indicators, build) : undefined;
  const server = await startBenchServer({}, kept, build);
  try {
    const seedSeconds = kept?.seeded ? Number.NaN : await seed(server, indicators);
    if (kept && !kept.seeded) await withClient(server.dbUrl, (c) => c.query(`COMMENT ON DATABASE ${kept.name} IS ${c.escapeLiteral(JSON.stringify(kept.admin))}`));
    // The seed was written by SQL, behind the service's back (no change feed): the process's
    // screening index does not hold it. A process started now builds its index from the database.
    // With the index part: first one without the index (the memory of today's server), then with.
    let index: Scale['index'];
    if (PARTS.has('index')) {
      await server.restart({ CORDON_SCREEN_INDEX: 'off' });
      await server.gql('{ __typename }');
      const without = await residentMiB(server.pid);
      await server.restart();
      const buildSeconds = await server.indexReady();
      await server.gql('{ __typename }');
      index = { buildSeconds, withoutMiB: without, withMiB: await residentMiB(server.pid), bytes: await metric(server.url, 'cordon_screen_index_bytes') };
    } else {
      await server.restart();
      await server.indexReady();
    }
    // Keys: ~1 % listed addresses, the rest unknown.
    const keys = Array.from({ length: KEYS }, (_, i) => (i % 100 === 0 ? address(1 + ((i * 7919) % indicators)) : `0x${randomBytes(20).toString('hex')}`));
    const fingerprints = keys.map(fingerprint);
    const member = await server.gql(`mutation { createMember(input: { name: "Bench Screener ${randomBytes(3).toString('hex')}", kind: CRYPTO_EXCHANGE }) { id } }`);
    const screener = await generateSigningKey('ES256');
    await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'screener', roles: ['SCREENER'], publicJwk: screener.publicJwk },
    });
    // The raw lookup of the same keys (fingerprints computed beforehand), 10,000 a query.
    const rawRun = () =>
      withClient(server.dbUrl, async (c) => {
        const time = async (sql: string) => {
          for (const part of chunks(fingerprints, 10_000)) await c.query(sql, [part]); // warm-up pass
          const start = process.hrtime.bigint();
          let hits = 0;
          for (const part of chunks(fingerprints, 10_000)) hits += (await c.query(sql, [part])).rowCount ?? 0;
          return { rate: fingerprints.length / (Number(process.hrtime.bigint() - start) / 1e9), hits };
        };
        const any = await time('SELECT id, fingerprint FROM indicator WHERE fingerprint = ANY($1)');
        // What the service runs: one index probe per key (a LATERAL subquery with LIMIT 1), which
        // the planner cannot turn into a hash join over a sequential scan as it may `= ANY` or a join.
        const join = await time(
          'SELECT i.* FROM unnest($1::text[]) AS k(fp) CROSS JOIN LATERAL (SELECT id, fingerprint FROM indicator WHERE fingerprint = k.fp LIMIT 1) i',
        );
        if (any.hits !== join.hits) throw new Error(`raw = ANY found ${any.hits} matches, the lateral lookup ${join.hits}`);
        return { any: any.rate, join: join.rate, hits: any.hits };
      });
    const first = await rawRun();
    return {
      indicators,
      build,
      label: builds > 1 ? `${indicators.toLocaleString()} (${build.name})` : indicators.toLocaleString(),
      server,
      origin: Number.isNaN(seedSeconds) ? `kept database ${kept?.name}` : `seeded in ${seedSeconds.toFixed(0)} s`,
      keys,
      fingerprints,
      rawRun,
      rawRuns: [],
      hits: first.hits,
      token: () => signBearerToken(screener.privateJwk as PrivateJwk, { audience: 'cordon', lifetimeSeconds: 300 }),
      batch: new Map(),
      singleRounds: [],
      index,
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** One timed pass over `bodies` in sequence; `hitsOf` sends a body and counts its matches, which must come to `expectedHits`. */
async function timedPass(bodies: string[], hitsOf: (body: string) => Promise<number>, expectedHits: number, what: string, pid: number): Promise<{ rate: number; cpu: CpuFigures }> {
  const cpu0 = await cpuReading(pid);
  const start = process.hrtime.bigint();
  let hits = 0;
  for (const body of bodies) hits += await hitsOf(body);
  const rate = KEYS / (Number(process.hrtime.bigint() - start) / 1e9);
  const cpu = perThousand(cpuUsed(cpu0, await cpuReading(pid)), KEYS);
  if (hits !== expectedHits) throw new Error(`${what} found ${hits} matches, raw SQL ${expectedHits}`);
  return { rate, cpu };
}

/** A raw run of the scale's keys, then a timed pass over `bodies` (served by process `pid`): the pass's rate, CPU and its ratios to the raw run. */
async function batchRound(
  scale: Scale,
  bodies: string[],
  hitsOf: (body: string) => Promise<number>,
  what: string,
  pid: number,
): Promise<BatchFigures & { raw: RawRates; cpu: CpuFigures }> {
  const raw = await scale.rawRun();
  const { rate, cpu } = await timedPass(bodies, hitsOf, scale.hits, what, pid);
  return { rate, ratio: rate / raw.any, ratioJoin: rate / raw.join, raw, cpu };
}

/** Medians of the rounds' rates and ratios. */
const medians = (rounds: BatchFigures[]): BatchFigures => ({
  rate: median(rounds.map((r) => r.rate)),
  ratio: median(rounds.map((r) => r.ratio)),
  ratioJoin: median(rounds.map((r) => r.ratioJoin)),
});

/** `{ __typename }`, then `body`, on one server: a load round. */
async function loadRound(server: { url: string; pid?: number }, token: string | undefined, body: (i: number) => string): Promise<LoadRound> {
  const trivial = await load(server, token, TRIVIAL);
  const cpu0 = server.pid ? await cpuReading(server.pid) : undefined;
  const screen = await load(server, token, body);
  const cpu = cpu0 && server.pid ? perThousand(cpuUsed(cpu0, await cpuReading(server.pid)), screen.requests.total) : undefined;
  return { trivial, screen, ratio: screen.requests.average / trivial.requests.average, cpu };
}

/** Request bodies taken in turn. */
const cycle = (bodies: string[]) => (i: number) => bodies[i % bodies.length];

/** ROUNDS rounds; in each, `measure` runs for every scale in turn. Results per scale, per round. */
async function alternate<T>(scales: Scale[], measure: (scale: Scale) => Promise<T>): Promise<T[][]> {
  const results = scales.map((): T[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, scale] of scales.entries()) results[i].push(await measure(scale));
  }
  return results;
}

const SCREEN_BATCH = 'query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match matchedVia indicator { id status } } }';
const SCREEN = 'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match matchedVia indicator { id status } } }';

/**
 * screenBatch with `size`-input batches on every scale: a warm-up pass over the keys (as the raw
 * runs get), then ROUNDS rounds of (raw run, timed pass) per scale, scales in turn. The client
 * does as little as it can, as the raw runs do: bodies written beforehand, a token signed before
 * each pass (a screening client keeps its token for its lifetime); answers parsed, hits counted.
 */
async function measureBatches(scales: Scale[], size: number): Promise<void> {
  const bodies = scales.map((s) =>
    chunks(s.keys, size).map((values) => JSON.stringify({ query: SCREEN_BATCH, variables: { inputs: values.map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) } })),
  );
  const hitsOf = (scale: Scale, token: string) => async (body: string) =>
    (await post<{ screenBatch: { match: boolean }[] }>(scale.server, token, body)).screenBatch.filter((r) => r.match).length;
  for (const [i, scale] of scales.entries()) {
    const token = await scale.token();
    for (const body of bodies[i]) await hitsOf(scale, token)(body);
  }
  const rounds = await alternate(scales, async (scale) => {
    const token = await scale.token();
    const round = await batchRound(scale, bodies[scales.indexOf(scale)], hitsOf(scale, token), 'screenBatch', scale.server.pid);
    scale.rawRuns.push(round.raw);
    return round;
  });
  for (const [i, scale] of scales.entries()) scale.batch.set(size, { ...medians(rounds[i]), rounds: rounds[i].map((r) => r.rate), cpuRounds: rounds[i].map((r) => r.cpu) });
}

/** Single-screen request bodies, written beforehand (as the trivial query's is): the load generator only picks the next. */
function singleBodies(scale: Scale): (i: number) => string {
  return cycle(scale.keys.map((v) => JSON.stringify({ query: SCREEN, variables: { v } })));
}

/** Single screens against `{ __typename }` on every scale's server, 32 connections, scales in turn. */
async function measureSingle(scales: Scale[]): Promise<void> {
  for (const scale of scales) await load(scale.server, await scale.token(), TRIVIAL); // warm-up
  const rounds = await alternate(scales, async (scale) => loadRound(scale.server, await scale.token(), singleBodies(scale)));
  scales.forEach((scale, i) => (scale.singleRounds = rounds[i]));
}

/** The same single-screen load against two API processes (CORDON_WORKERS=2) on the scale's database. */
async function measureTwoWorkers(scale: Scale): Promise<void> {
  const two = await startBenchServer({ CORDON_WORKERS: '2' }, { dbUrl: scale.server.dbUrl, admin: scale.server.adminKeys }, scale.build);
  try {
    const token = await scale.token();
    await load(two, token, TRIVIAL); // warm-up
    scale.twoWorkers = await load(two, token, singleBodies(scale));
  } finally {
    await two.stop();
  }
}

/**
 * The other reference: a bare Nest + Apollo resolver running the raw lookup
 * (bench/bare-server.ts), in its own process on the scale's database, measured the same ways
 * (fingerprints sent, as the raw runs use): batches against the raw run just before each pass,
 * `lookupOne` against its own `{ __typename }`.
 */
async function measureBare(scale: Scale): Promise<void> {
  const bare = await spawnServer('dist/bench/bare-server.js', '/ready', { DATABASE_URL: scale.server.dbUrl });
  try {
    const batch = new Map<number, BatchFigures>();
    for (const size of PARTS.has('batch') ? [1000, 10_000] : []) {
      const bodies = chunks(scale.fingerprints, size).map((f) => JSON.stringify({ query: 'query($f: [String!]!) { lookup(fingerprints: $f) { id fingerprint status } }', variables: { f } }));
      const hitsOf = async (body: string) => (await post<{ lookup: unknown[] }>(bare, undefined, body)).lookup.length;
      for (const body of bodies) await hitsOf(body); // warm-up
      const [rounds] = await alternate([scale], () => batchRound(scale, bodies, hitsOf, 'the bare resolver', bare.pid));
      batch.set(size, medians(rounds));
    }
    let rounds: LoadRound[] = [];
    if (PARTS.has('single')) {
      const one = cycle(scale.fingerprints.map((f) => JSON.stringify({ query: 'query($f: String!) { lookupOne(fingerprint: $f) { id fingerprint status } }', variables: { f } })));
      await load(bare, undefined, TRIVIAL); // warm-up
      [rounds] = await alternate([scale], () => loadRound(bare, undefined, one));
    }
    scale.bare = { batch, rounds };
  } finally {
    await bare.stop();
  }
}


/**
 * POST /v1/screen with a prepared NDJSON body, written in 64 KiB pieces as the socket drains; the
 * answer is read as it streams and only scanned (lines and `"match":true` counted), as the raw
 * runs count rows. Resolves with the number of result lines and of matches.
 */
function bulkPass(url: string, token: string, body: Buffer): Promise<{ lines: number; hits: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/screen`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`POST /v1/screen answered ${res.statusCode}`));
        return;
      }
      let lines = 0;
      let hits = 0;
      let tail = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        const text = tail + chunk;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
        for (let i = text.indexOf('"match":true'); i >= 0; i = text.indexOf('"match":true', i + 1)) hits++;
        tail = text.slice(Math.max(text.lastIndexOf('\n') + 1, text.length - 11)); // a marker split across reads
        if (tail.includes('"match":true')) tail = '';
      });
      res.on('end', () => resolve({ lines: lines - 1, hits })); // the summary line
      res.on('error', reject);
    });
    req.on('error', reject);
    (async () => {
      for (let at = 0; at < body.length; at += 65_536) {
        if (!req.write(body.subarray(at, at + 65_536))) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

interface BulkRound {
  raw: RawRates;
  values: { rate: number; cpu: CpuFigures };
  fingerprints: { rate: number; cpu: CpuFigures };
}

/**
 * The bulk endpoint on every scale, raw values and fingerprints, BULK_KEYS lines a pass (~1 %
 * listed), against the raw SQL lookups of the same keys (fingerprints computed beforehand, 10,000
 * a query, = ANY and the lateral probe) run just before; ROUNDS rounds, scales in turn.
 */
async function measureBulk(scales: Scale[]): Promise<void> {
  for (const scale of scales) {
    const values = Array.from({ length: BULK_KEYS }, (_, i) => (i % 100 === 0 ? address(1 + ((i * 7919) % scale.indicators)) : `0x${randomBytes(20).toString('hex')}`));
    const fingerprints = values.map(fingerprint);
    const rawBody = Buffer.from(values.map((v) => `{"kind":"WALLET_ADDRESS","network":"ethereum","value":"${v}"}\n`).join(''));
    const fpBody = Buffer.from(fingerprints.map((f) => `{"fingerprint":"${f}"}\n`).join(''));
    const raw = () =>
      withClient(scale.server.dbUrl, async (c) => {
        const time = async (sql: string) => {
          const start = process.hrtime.bigint();
          let hits = 0;
          for (const part of chunks(fingerprints, 10_000)) hits += (await c.query(sql, [part])).rowCount ?? 0;
          return { rate: fingerprints.length / (Number(process.hrtime.bigint() - start) / 1e9), hits };
        };
        const any = await time('SELECT id, fingerprint FROM indicator WHERE fingerprint = ANY($1)');
        const join = await time('SELECT i.* FROM unnest($1::text[]) AS k(fp) CROSS JOIN LATERAL (SELECT id, fingerprint FROM indicator WHERE fingerprint = k.fp LIMIT 1) i');
        return { any: any.rate, join: join.rate, hits: any.hits };
      });
    const pass = async (body: Buffer, hits: number) => {
      const token = await scale.token();
      const cpu0 = await cpuReading(scale.server.pid);
      const start = process.hrtime.bigint();
      const answer = await bulkPass(scale.server.url, token, body);
      const rate = BULK_KEYS / (Number(process.hrtime.bigint() - start) / 1e9);
      const cpu = perMillion(cpuUsed(cpu0, await cpuReading(scale.server.pid)), BULK_KEYS);
      if (answer.lines !== BULK_KEYS || answer.hits !== hits) throw new Error(`bulk pass answered ${answer.lines} lines and ${answer.hits} matches; raw SQL ${hits} matches of ${BULK_KEYS} keys`);
      return { rate, cpu };
    };
    scale.bulkMeasure = async () => {
      const r = await raw();
      return { raw: r, values: await pass(rawBody, r.hits), fingerprints: await pass(fpBody, r.hits) };
    };
    await scale.bulkMeasure(); // warm-up: the keys' pages, the code paths
  }
  const rounds = await alternate(scales, (scale) => scale.bulkMeasure!());
  scales.forEach((scale, i) => (scale.bulkRounds = rounds[i]));
}

const perMillion = (used: CpuReading, units: number): CpuFigures => ({ server: (used.server / units) * 1e6, postgres: (used.postgres / units) * 1e6 });

interface CatchUp {
  statements: number;
  /** submitting them through another process while this one was stopped */
  writeSeconds: number;
  /** the first screen call after the process resumed: its index catches up first */
  firstScreenMs: number;
  /** a screen call once caught up, for comparison */
  nextScreenMs: number;
}

const CATCH_UP_STATEMENTS = Number(process.env.BENCH_CATCH_UP ?? 10_000);

/**
 * Catch-up: the scale's process is stopped (SIGSTOP) while CATCH_UP_STATEMENTS statements are
 * submitted through another process on its database, then resumed: its first screen call (of the
 * last value submitted) finds its index behind the feed head and catches up before answering.
 */
async function measureCatchUp(scale: Scale): Promise<CatchUp> {
  const member = await scale.server.gql(`mutation { createMember(input: { name: "Bench Hotline ${randomBytes(3).toString('hex')}", kind: COORDINATOR }) { id } }`);
  const key = await generateSigningKey('ES256');
  const principal = await scale.server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
    i: { memberId: member.createMember.id, name: 'contributor', roles: ['CONTRIBUTOR'], publicJwk: key.publicJwk },
  });
  const values = Array.from({ length: CATCH_UP_STATEMENTS }, () => `0x${randomBytes(20).toString('hex')}`);
  const iat = Math.floor(Date.now() / 1000);
  const jws = await Promise.all(
    values.map((value) =>
      signStatement(key.privateJwk as unknown as Parameters<typeof signStatement>[0], {
        iss: principal.createPrincipal.id,
        jti: randomBytes(16).toString('hex'),
        iat,
        indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value },
        category: 'CSAM_COMMERCIAL',
        confidence: 80,
        tlp: 'CLEAR',
      }),
    ),
  );
  const writer = await startBenchServer({ CORDON_SCREEN_INDEX: 'off' }, { dbUrl: scale.server.dbUrl, admin: scale.server.adminKeys }, scale.build);
  const screen = async (value: string) => {
    const body = JSON.stringify({ query: SCREEN, variables: { v: value } });
    const start = process.hrtime.bigint();
    const { screen: answer } = await post<{ screen: { match: boolean } }>(scale.server, await scale.token(), body);
    if (!answer.match) throw new Error(`catch-up: ${value}, just submitted, did not match`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  process.kill(scale.server.pid, 'SIGSTOP');
  let writeSeconds: number;
  try {
    const start = process.hrtime.bigint();
    for (const part of chunks(jws, 500)) {
      const { submitStatements } = await writer.gql('mutation($j: [String!]!) { submitStatements(jws: $j) { ok error } }', { j: part }, key.privateJwk);
      const failed = (submitStatements as { ok: boolean; error: string }[]).find((o) => !o.ok);
      if (failed) throw new Error(`catch-up: a statement was refused: ${failed.error}`);
    }
    writeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    process.kill(scale.server.pid, 'SIGCONT');
    await writer.stop();
  }
  const firstScreenMs = await screen(values.at(-1)!);
  const nextScreenMs = await screen(values[0]);
  return { statements: CATCH_UP_STATEMENTS, writeSeconds, firstScreenMs, nextScreenMs };
}

/** Single screens at half the maximum rate measured (the median closed-loop round): an open-loop latency. */
async function measureOpenLoop(scale: Scale): Promise<void> {
  const max = median(scale.singleRounds.map((r) => r.screen.requests.average));
  const rate = Math.max(1, Math.round(max / 2));
  const result = await load(scale.server, await scale.token(), singleBodies(scale), rate);
  scale.openLoop = { rate, result };
}

const TRIVIAL = () => '{"query":"{ __typename }"}';

/** The round with the median ratio (the one reported). */
const medianRound = <R extends { ratio: number }>(rounds: R[]): R | undefined => [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];

function report(scale: Scale): void {
  const out = process.stdout;
  const raw = scale.rawRuns.length > 0 ? { any: median(scale.rawRuns.map((r) => r.any)), join: median(scale.rawRuns.map((r) => r.join)) } : { any: Number.NaN, join: Number.NaN };
  out.write(`\nscreening at ${scale.label} ACTIVE indicators (${scale.origin}; ${KEYS.toLocaleString()} keys, ${scale.hits} hits)\n`);
  out.write(`  raw SQL, = ANY($1), 10,000 per query:        ${Math.round(raw.any)} keys/s  (the issue's baseline; median of the ${scale.rawRuns.length} runs beside the screenBatch passes)\n`);
  out.write(`  raw SQL, lateral probe per key (the service's query), 10,000 per query: ${Math.round(raw.join)} keys/s\n`);
  out.write(`  (raw = ANY runs: ${scale.rawRuns.map((r) => Math.round(r.any / 1000)).join(', ')} thousand keys/s)\n`);
  if (scale.indexScansUsed) out.write(`  index scans on indicator during the screenBatch rounds (the raw runs' included): ${scale.indexScansUsed}\n`);
  for (const [size, b] of scale.batch) {
    out.write(
      `  screenBatch × ${String(size).padStart(6)}: ${Math.round(b.rate)} keys/s  = ${b.ratio.toFixed(2)} × raw = ANY (target >= 0.7), ${b.ratioJoin.toFixed(2)} × raw lateral (medians of ${ROUNDS} rounds, each against the raw run just before it)\n`,
    );
    out.write(`    CPU per 1,000 keys: ${showCpu(b.cpuRounds)}\n`);
  }
  const line = (name: string, r: autocannon.Result) => `  ${name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms\n`;
  for (const [i, r] of scale.singleRounds.entries()) {
    out.write(`  round ${i + 1}: { __typename } ${Math.round(r.trivial.requests.average)} req/s, screen ${Math.round(r.screen.requests.average)} req/s = ${r.ratio.toFixed(2)}\n`);
  }
  const middle = medianRound(scale.singleRounds);
  if (middle) {
    out.write(line(`{ __typename } (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, middle.trivial));
    out.write(line(`screen        (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, middle.screen));
    out.write(`  screen / trivial: ${middle.ratio.toFixed(2)} (the median round; target >= 0.8; p99 target < 10 ms)\n`);
    const cpus = scale.singleRounds.flatMap((r) => (r.cpu ? [r.cpu] : []));
    if (cpus.length > 0) out.write(`  CPU per 1,000 screens: ${showCpu(cpus)}\n`);
  }
  if (scale.twoWorkers) {
    out.write(line(`screen, 2 API processes (CORDON_WORKERS=2)`, scale.twoWorkers));
    if (middle) out.write(`  2 processes / 1: ${(scale.twoWorkers.requests.average / middle.screen.requests.average).toFixed(2)} (2 cores shared with PostgreSQL and the load generator)\n`);
  }
  if (scale.bare) {
    out.write(`  bare Nest + Apollo resolver, raw = ANY lookup, no auth / canonicalisation / audit (bench/bare-server.ts):\n`);
    for (const [size, b] of scale.bare.batch) {
      out.write(`    lookup × ${String(size).padStart(6)} fingerprints: ${Math.round(b.rate)} keys/s = ${b.ratio.toFixed(2)} × raw = ANY (median of ${ROUNDS} rounds)\n`);
    }
    for (const [i, r] of scale.bare.rounds.entries()) {
      out.write(`    round ${i + 1}: { __typename } ${Math.round(r.trivial.requests.average)} req/s, lookupOne ${Math.round(r.screen.requests.average)} req/s = ${r.ratio.toFixed(2)}\n`);
    }
    const bareMiddle = medianRound(scale.bare.rounds);
    if (bareMiddle) {
      out.write(line(`  lookupOne     (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, bareMiddle.screen));
      out.write(`    lookupOne / trivial: ${bareMiddle.ratio.toFixed(2)} (the median round)\n`);
    }
  }
  if (scale.openLoop) {
    const { rate, result: r } = scale.openLoop;
    out.write(`  screen, open loop at ${rate} req/s (half the median closed-loop rate; autocannon overallRate, ${CONNECTIONS} connections, ${LOAD_SECONDS} s): ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p97.5 ${r.latency.p97_5} ms, p99 ${r.latency.p99} ms (target < 10 ms), max ${r.latency.max} ms\n`);
  }
  if (scale.index) {
    const x = scale.index;
    out.write(`  screening index: built in ${x.buildSeconds.toFixed(1)} s from process start; ${(x.bytes / 2 ** 20).toFixed(1)} MiB held; process memory ${x.withMiB.toFixed(0)} MiB with it, ${x.withoutMiB.toFixed(0)} MiB without (CORDON_SCREEN_INDEX=off): +${(x.withMiB - x.withoutMiB).toFixed(0)} MiB (target <= 150 MB at 10M)\n`);
    if (x.catchUp) {
      const c = x.catchUp;
      out.write(`  catch-up: ${c.statements.toLocaleString()} statements submitted through another process (${c.writeSeconds.toFixed(1)} s) while this one was stopped; its first screen after resuming (catching up first) ${c.firstScreenMs.toFixed(0)} ms, the next ${c.nextScreenMs.toFixed(1)} ms\n`);
    }
  }
  if (scale.bulkRounds) {
    const r = scale.bulkRounds;
    const best = r.map((x) => Math.max(x.raw.any, x.raw.join));
    const show = (rs: number[]) => `${median(rs).toFixed(2)} (rounds ${rs.map((x) => x.toFixed(2)).join(', ')})`;
    out.write(`  POST /v1/screen, ${BULK_KEYS.toLocaleString()} lines a pass (medians of ${r.length} rounds, each against the raw SQL run just before it):\n`);
    out.write(`    raw SQL of the same keys, the faster of = ANY and lateral: ${Math.round(median(best))} keys/s (= ANY ${Math.round(median(r.map((x) => x.raw.any)))}, lateral ${Math.round(median(r.map((x) => x.raw.join)))})\n`);
    for (const kind of ['values', 'fingerprints'] as const) {
      out.write(`    ${kind.padEnd(12)}: ${Math.round(median(r.map((x) => x[kind].rate)))} keys/s = ${show(r.map((x, i) => x[kind].rate / best[i]))} × raw SQL (target >= 2; >= ${kind === 'values' ? '300k' : '1M'} keys/s)\n`);
      out.write(`      CPU per million keys: ${showCpu(r.map((x) => x[kind].cpu))}\n`);
    }
  }
  out.write(`  server resident memory after the run: ${scale.memoryMiB?.toFixed(0)} MiB\n`);
}

/** Median CPU seconds of the rounds, server and PostgreSQL. */
const showCpu = (rounds: CpuFigures[]) =>
  `server ${median(rounds.map((c) => c.server)).toFixed(3)} s, PostgreSQL ${median(rounds.map((c) => c.postgres)).toFixed(3)} s (medians of ${rounds.length} rounds)`;

/** Each scale's current build against its baseline, round by round (measured seconds apart). */
function reportAgainstBaseline(scales: Scale[]): void {
  const out = process.stdout;
  const ratios = (xs: number[], ys: number[]) => xs.map((x, i) => x / ys[i]);
  const show = (rs: number[]) => `${median(rs).toFixed(2)} (rounds ${rs.map((r) => r.toFixed(2)).join(', ')})`;
  const cpuTotal = (c: CpuFigures) => c.server + c.postgres;
  out.write(`\nscreening: current / baseline, round by round (target: rates >= 0.90)\n`);
  for (const current of scales.filter((s) => s.build.name === 'current')) {
    const base = scales.find((s) => s.build.name === 'baseline' && s.indicators === current.indicators);
    if (!base) continue;
    const n = current.indicators.toLocaleString();
    for (const [size, b] of current.batch) {
      const bb = base.batch.get(size)!;
      out.write(`  ${n}: screenBatch × ${size}: rate ${show(ratios(b.rounds, bb.rounds))}\n`);
      out.write(`  ${n}: screenBatch × ${size}: server + PostgreSQL CPU per key ${show(ratios(b.cpuRounds.map(cpuTotal), bb.cpuRounds.map(cpuTotal)))}\n`);
    }
    if (current.singleRounds.length > 0 && base.singleRounds.length > 0) {
      const rates = (rounds: LoadRound[]) => rounds.map((r) => r.screen.requests.average);
      const cpu = (rounds: LoadRound[]) => rounds.map((r) => (r.cpu ? cpuTotal(r.cpu) : Number.NaN));
      out.write(`  ${n}: single screen: rate ${show(ratios(rates(current.singleRounds), rates(base.singleRounds)))}\n`);
      out.write(`  ${n}: single screen: server + PostgreSQL CPU per request ${show(ratios(cpu(current.singleRounds), cpu(base.singleRounds)))}\n`);
    }
    out.write(`  ${n}: memory ${current.memoryMiB?.toFixed(0)} MiB vs ${base.memoryMiB?.toFixed(0)} MiB\n`);
  }
}

export async function runScreeningBench(): Promise<void> {
  const scales: Scale[] = [];
  const builds = benchBuilds();
  try {
    for (const n of SCALES) for (const build of builds) scales.push(await openScale(n, build, builds.length));
    const scans0 = await Promise.all(scales.map((s) => indexScans(s.server.dbUrl)));
    for (const size of PARTS.has('batch') ? [1000, 10_000] : []) await measureBatches(scales, size);
    // Which index the service's lookups used (scans counted by PostgreSQL during the batches).
    for (const [i, scale] of scales.entries()) {
      const scans1 = await indexScans(scale.server.dbUrl);
      if (scale.batch.size > 0) scale.indexScansUsed = [...scans1].map(([name, n]) => `${name} ${n - (scans0[i].get(name) ?? 0)}`).join(', ');
    }
    if (PARTS.has('bulk')) await measureBulk(scales);
    if (PARTS.has('single')) await measureSingle(scales);
    for (const scale of scales) {
      if (PARTS.has('open') && scale.singleRounds.length > 0) await measureOpenLoop(scale);
      if (PARTS.has('index') && scale.index && scale.build.name === 'current') scale.index.catchUp = await measureCatchUp(scale);
      if (PARTS.has('workers')) await measureTwoWorkers(scale);
      if (PARTS.has('bare') && scale.build.name === 'current') await measureBare(scale);
      scale.memoryMiB = await residentMiB(scale.server.pid);
    }
    for (const scale of scales) report(scale);
    if (builds.length > 1) reportAgainstBaseline(scales);
    const ofCurrent = scales.filter((s) => s.build.name === 'current');
    if (ofCurrent.length > 1) {
      // Each round's rate at a larger scale over the base scale's in the same round (seconds apart).
      const [base, ...rest] = ofCurrent;
      const out = process.stdout;
      out.write(`\nscreening: larger scales against ${base.indicators.toLocaleString()}, round by round (target: within 20 %)\n`);
      const ratios = (xs: number[], ys: number[]) => xs.map((x, i) => x / ys[i]);
      const show = (rs: number[]) => `${median(rs).toFixed(2)} (rounds ${rs.map((r) => r.toFixed(2)).join(', ')})`;
      for (const s of rest) {
        for (const [size, b] of s.batch) out.write(`  ${s.indicators.toLocaleString()}: screenBatch × ${size}: ${show(ratios(b.rounds, base.batch.get(size)!.rounds))} of the ${base.indicators.toLocaleString()} rate\n`);
        if (s.singleRounds.length > 0) {
          const rates = (rounds: LoadRound[]) => rounds.map((r) => r.screen.requests.average);
          out.write(`  ${s.indicators.toLocaleString()}: single screen: ${show(ratios(rates(s.singleRounds), rates(base.singleRounds)))} of the ${base.indicators.toLocaleString()} rate\n`);
        }
        if (s.bulkRounds && base.bulkRounds) {
          for (const kind of ['values', 'fingerprints'] as const) {
            out.write(`  ${s.indicators.toLocaleString()}: POST /v1/screen, ${kind}: ${show(ratios(s.bulkRounds.map((r) => r[kind].rate), base.bulkRounds.map((r) => r[kind].rate)))} of the ${base.indicators.toLocaleString()} rate\n`);
          }
        }
        if (s.rawRuns.length > 0) out.write(`  ${s.indicators.toLocaleString()}: raw SQL = ANY: ${show(ratios(s.rawRuns.map((r) => r.any), base.rawRuns.map((r) => r.any)))} of the ${base.indicators.toLocaleString()} rate\n`);
        out.write(`  ${s.indicators.toLocaleString()}: memory ${s.memoryMiB?.toFixed(0)} MiB vs ${base.memoryMiB?.toFixed(0)} MiB\n`);
      }
    }
  } finally {
    for (const scale of scales) await scale.server.stop();
  }
}
