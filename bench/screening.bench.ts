import { createHash, randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { generateSigningKey, type PrivateJwk, signBearerToken } from '@app/signing';
import { type BenchServer, residentMiB, spawnServer, startBenchServer, withClient } from './server.js';

/**
 * `npm run bench screening`: for each scale in BENCH_SCALES (default 1,000,000; e.g.
 * `BENCH_SCALES=1000000,10000000`), a fresh server and database seeded with that many ACTIVE
 * wallet indicators by set-based SQL (not the API), then, over HTTP:
 *
 * - screenBatch with 1,000- and 10,000-input batches of EVM addresses (~1 % hits), against the
 *   raw SQL lookup of the same keys in the same run (`pg`, `= ANY($1)`, no HTTP, no GraphQL —
 *   the issue's baseline — and the lookup the service runs, a LATERAL index probe per key),
 *   alternately, ROUNDS times per batch size: the median of the per-round ratios is reported
 *   (this machine's speed drifts by tens of per cent within minutes);
 * - single `screen` requests with autocannon at 32 connections, against the same server answering
 *   `{ __typename }` (authenticated the same way), alternately, ROUNDS times: requests/s, p50/p99
 *   of the round with the median ratio;
 * - the same two measurements against a bare Nest + Apollo resolver running the raw lookup
 *   (bench/bare-server.ts, the issue's other reference point): what the framework alone costs here;
 * - the server's resident memory after the run.
 */
const SCALES = (process.env.BENCH_SCALES ?? process.env.BENCH_INDICATORS ?? '1000000').split(',').map(Number);
const KEYS = Number(process.env.BENCH_KEYS ?? 50_000);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = 32;
/** screenBatch rounds per batch size, each timed against a raw run just before it. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** BENCH_PARTS=batch,single,workers,bare runs only those parts (all by default), e.g. for profiling. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'batch,single,workers,bare').split(','));

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const fingerprint = (value: string) => createHash('sha256').update(`WALLET_ADDRESS|ethereum|${value}`).digest('hex');

interface BareFigures {
  batch: Map<number, { rate: number; ratio: number; ratioJoin: number }>;
  rounds: { trivial: autocannon.Result; screen: autocannon.Result; ratio: number }[];
  middle?: { trivial: autocannon.Result; screen: autocannon.Result; ratio: number };
}

interface ScaleFigures {
  indicators: number;
  rawAny: number;
  rawJoin: number;
  batch: Map<number, { rate: number; ratio: number; ratioJoin: number }>;
  trivial?: autocannon.Result;
  single?: autocannon.Result;
  memoryMiB: number;
}

async function seed(server: BenchServer, indicators: number): Promise<number> {
  const start = Date.now();
  // One ACTIVE, CLEAR indicator per n (address n) with its SPEC 3 fingerprint, in chunks of 1M.
  for (let from = 1; from <= indicators; from += 1_000_000) {
    const to = Math.min(indicators, from + 999_999);
    await withClient(server.dbUrl, (c) =>
      c.query(
        `INSERT INTO indicator (kind, network, value, fingerprint, status, category, confidence, tlp, open_tlp, attestation_count, first_seen_at, last_seen_at)
         SELECT 'WALLET_ADDRESS', 'ethereum', v, encode(sha256(convert_to('WALLET_ADDRESS|ethereum|' || v, 'UTF8')), 'hex'),
                'ACTIVE', 'CSAM_COMMERCIAL', 80, 'CLEAR', true, 1, now(), now()
           FROM (SELECT '0x' || lpad(to_hex(n), 40, '0') AS v FROM generate_series($1::int, $2::int) AS n) s`,
        [from, to],
      ),
    );
    if (indicators > 1_000_000) process.stdout.write(`  seeded ${to.toLocaleString()} of ${indicators.toLocaleString()}\n`);
  }
  await withClient(server.dbUrl, (c) => c.query('VACUUM ANALYZE indicator'));
  return (Date.now() - start) / 1000;
}

/** autocannon against POST /graphql (with a fixed token, if any); `body(i)` varies the request. */
function load(server: { url: string }, token: string | undefined, body: (i: number) => string): Promise<autocannon.Result> {
  let n = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${server.url}/graphql`,
        connections: CONNECTIONS,
        duration: LOAD_SECONDS,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        requests: [{ setupRequest: (req) => ({ ...req, body: body(n++) }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/**
 * BENCH_KEEP_SEED=1 keeps each scale's seeded database (cordon_bench_seed_<n>) for the next run
 * instead of seeding anew (10,000,000 indicators take many minutes to seed on 2 cores); the
 * bootstrap admin's key is kept in the database's comment. Drop them by hand when done.
 */
const KEEP_SEED = process.env.BENCH_KEEP_SEED === '1';

async function keptDatabase(indicators: number) {
  const name = `cordon_bench_seed_${indicators}`;
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
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const out = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!out.data) throw new Error(JSON.stringify(out.errors).slice(0, 500));
  return out.data;
}

/**
 * ROUNDS rounds of (a raw SQL run, a timed pass over `bodies` in sequence) after a warm-up pass
 * over the same keys (as the raw runs get); `hitsOf` sends one body and counts its matches, which
 * must come to the raw lookup's. Medians of the rates and of the per-round ratios.
 */
async function batchRounds(
  bodies: string[],
  hitsOf: (body: string) => Promise<number>,
  rawRun: () => Promise<{ any: number; join: number }>,
  expectedHits: number,
  what: string,
): Promise<{ rate: number; ratio: number; ratioJoin: number }> {
  for (const body of bodies) await hitsOf(body);
  const rounds: { rate: number; ratio: number; ratioJoin: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const raw = await rawRun();
    const start = process.hrtime.bigint();
    let hits = 0;
    for (const body of bodies) hits += await hitsOf(body);
    const rate = KEYS / (Number(process.hrtime.bigint() - start) / 1e9);
    if (hits !== expectedHits) throw new Error(`${what} found ${hits} matches, raw SQL ${expectedHits}`);
    rounds.push({ rate, ratio: rate / raw.any, ratioJoin: rate / raw.join });
  }
  return { rate: median(rounds.map((r) => r.rate)), ratio: median(rounds.map((r) => r.ratio)), ratioJoin: median(rounds.map((r) => r.ratioJoin)) };
}

const TRIVIAL = () => '{"query":"{ __typename }"}';

/**
 * After a warm-up, ROUNDS rounds of (`{ __typename }`, `body`) on the same server, 32 connections
 * each, the same token (if any).
 */
async function loadRounds(server: { url: string }, token: string | undefined, body: (i: number) => string) {
  await load(server, token, TRIVIAL);
  const rounds: { trivial: autocannon.Result; screen: autocannon.Result; ratio: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = await load(server, token, TRIVIAL);
    const s = await load(server, token, body);
    for (const r of [t, s]) if (r.non2xx > 0 || r.errors > 0) throw new Error(`load run had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
    rounds.push({ trivial: t, screen: s, ratio: s.requests.average / t.requests.average });
  }
  return rounds;
}

/** The round with the median ratio (the one reported). */
const medianRound = <R extends { ratio: number }>(rounds: R[]): R | undefined => [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];

async function runScale(indicators: number): Promise<ScaleFigures> {
  const kept = KEEP_SEED ? await keptDatabase(indicators) : undefined;
  const server = await startBenchServer({}, kept);
  try {
    const seedSeconds = kept?.seeded ? Number.NaN : await seed(server, indicators);
    if (kept && !kept.seeded) await withClient(server.dbUrl, (c) => c.query(`COMMENT ON DATABASE ${kept.name} IS ${c.escapeLiteral(JSON.stringify(kept.admin))}`));
    // Keys: ~1 % listed addresses, the rest unknown.
    const keys = Array.from({ length: KEYS }, (_, i) => (i % 100 === 0 ? address(1 + ((i * 7919) % indicators)) : `0x${randomBytes(20).toString('hex')}`));
    const member = await server.gql(`mutation { createMember(input: { name: "Bench Screener ${randomBytes(3).toString('hex')}", kind: CRYPTO_EXCHANGE }) { id } }`);
    const screener = await generateSigningKey('ES256');
    await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'screener', roles: ['SCREENER'], publicJwk: screener.publicJwk },
    });

    // Baselines: the raw lookup of the same keys (fingerprints computed here), batches of 10,000,
    // timed right before each screenBatch round.
    const rawRates = () => withClient(server.dbUrl, async (c) => {
      const fps = keys.map(fingerprint);
      const time = async (sql: string) => {
        for (let i = 0; i < fps.length; i += 10_000) await c.query(sql, [fps.slice(i, i + 10_000)]); // warm-up pass
        const start = process.hrtime.bigint();
        let hits = 0;
        for (let i = 0; i < fps.length; i += 10_000) hits += (await c.query(sql, [fps.slice(i, i + 10_000)])).rowCount ?? 0;
        return { rate: fps.length / (Number(process.hrtime.bigint() - start) / 1e9), hits };
      };
      const any = await time('SELECT id, fingerprint, status FROM indicator WHERE fingerprint = ANY($1)');
      // What the service runs: one index probe per key (a LATERAL subquery with LIMIT 1), which
      // the planner cannot turn into a hash join over a sequential scan as it may `= ANY` or a join.
      const join = await time(
        'SELECT i.* FROM unnest($1::text[]) AS k(fp) CROSS JOIN LATERAL (SELECT id, fingerprint, status FROM indicator WHERE fingerprint = k.fp LIMIT 1) i',
      );
      if (any.hits !== join.hits) throw new Error(`raw = ANY found ${any.hits} matches, the lateral lookup ${join.hits}`);
      return { any: any.rate, join: join.rate, hits: any.hits };
    });
    const first = await rawRates();

    // The client does as little as it can, as the raw runs do (their fingerprints are computed
    // before the clock starts): request bodies written beforehand, one token for all calls (as a
    // screening client keeps its token for its lifetime); answers are parsed and their hits counted.
    const query = 'query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match matchedVia indicator { id status } } }';
    const batchToken = await signBearerToken(screener.privateJwk as PrivateJwk, { audience: 'cordon', lifetimeSeconds: 300 });
    const rawRuns: { any: number; join: number }[] = [first];
    const rawRun = async () => {
      const r = await rawRates();
      rawRuns.push(r);
      return r;
    };
    const batch = new Map<number, { rate: number; ratio: number; ratioJoin: number }>();
    const indexScans0 = await indexScans(server.dbUrl);
    for (const size of PARTS.has('batch') ? [1000, 10_000] : []) {
      const bodies = chunks(keys, size).map((values) =>
        JSON.stringify({ query, variables: { inputs: values.map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) } }),
      );
      const hitsOf = async (body: string) => (await post<{ screenBatch: { match: boolean }[] }>(server, batchToken, body)).screenBatch.filter((r) => r.match).length;
      batch.set(size, await batchRounds(bodies, hitsOf, rawRun, first.hits, 'screenBatch'));
    }

    // Which index the service's lookups used (scans counted by PostgreSQL during the batches).
    const indexScans1 = await indexScans(server.dbUrl);
    const used = [...indexScans1].map(([name, n]) => `${name} ${n - (indexScans0.get(name) ?? 0)}`).join(', ');
    const raw = { any: median(rawRuns.map((r) => r.any)), join: median(rawRuns.map((r) => r.join)), hits: first.hits };

    // Single screen vs a trivial query, same server, same token handling, 32 connections.
    const token = await signBearerToken(screener.privateJwk as PrivateJwk, { audience: 'cordon', lifetimeSeconds: 300 });
    const single = (i: number) =>
      JSON.stringify({
        query: 'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match matchedVia indicator { id status } } }',
        variables: { v: keys[i % keys.length] },
      });
    const singleRounds = PARTS.has('single') ? await loadRounds(server, token, single) : [];
    const middle = medianRound(singleRounds);
    const trivial = middle?.trivial;
    const screen = middle?.screen;

    // The same load against two API processes (CORDON_WORKERS=2) on the same database, this run.
    let twoWorkers: autocannon.Result | undefined;
    if (PARTS.has('workers')) {
      const two = await startBenchServer({ CORDON_WORKERS: '2' }, { dbUrl: server.dbUrl, admin: server.adminKeys });
      try {
        await load(two, token, TRIVIAL); // warm-up
        twoWorkers = await load(two, token, single);
      } finally {
        await two.stop();
      }
    }

    // The issue's other reference: a bare Nest + Apollo resolver running the raw lookup (bench/bare-server.ts),
    // in its own process on the same database, measured the same ways (fingerprints sent, as the raw runs use).
    let bare: BareFigures | undefined;
    if (PARTS.has('bare')) {
      const bareServer = await spawnServer('dist/bench/bare-server.js', '/ready', { DATABASE_URL: server.dbUrl });
      try {
        const fps = keys.map(fingerprint);
        const bareBatch = new Map<number, { rate: number; ratio: number; ratioJoin: number }>();
        for (const size of PARTS.has('batch') ? [1000, 10_000] : []) {
          const bodies = chunks(fps, size).map((f) => JSON.stringify({ query: 'query($f: [String!]!) { lookup(fingerprints: $f) { id fingerprint status } }', variables: { f } }));
          const hitsOf = async (body: string) => (await post<{ lookup: unknown[] }>(bareServer, undefined, body)).lookup.length;
          bareBatch.set(size, await batchRounds(bodies, hitsOf, rawRates, first.hits, 'the bare resolver'));
        }
        const one = (i: number) => JSON.stringify({ query: 'query($f: String!) { lookupOne(fingerprint: $f) { id fingerprint status } }', variables: { f: fps[i % fps.length] } });
        const rounds = PARTS.has('single') ? await loadRounds(bareServer, undefined, one) : [];
        bare = { batch: bareBatch, rounds, middle: medianRound(rounds) };
      } finally {
        await bareServer.stop();
      }
    }

    const figures: ScaleFigures = {
      indicators,
      rawAny: raw.any,
      rawJoin: raw.join,
      batch,
      trivial,
      single: screen,
      memoryMiB: await residentMiB(server.pid),
    };
    const out = process.stdout;
    out.write(`\nscreening at ${indicators.toLocaleString()} ACTIVE indicators (${Number.isNaN(seedSeconds) ? `kept database ${kept?.name}` : `seeded in ${seedSeconds.toFixed(0)} s`}; ${KEYS.toLocaleString()} keys, ${raw.hits} hits)\n`);
    out.write(`  raw SQL, = ANY($1), 10,000 per query:        ${Math.round(raw.any)} keys/s  (the issue's baseline; median of ${rawRuns.length} runs)\n`);
    out.write(`  raw SQL, lateral probe per key (the service's query), 10,000 per query: ${Math.round(raw.join)} keys/s\n`);
    out.write(`  (raw = ANY runs: ${rawRuns.map((r) => Math.round(r.any / 1000)).join(', ')} thousand keys/s)\n`);
    if (batch.size > 0) out.write(`  index scans on indicator during the screenBatch runs: ${used}\n`);
    for (const [size, b] of batch) {
      out.write(
        `  screenBatch × ${String(size).padStart(6)}: ${Math.round(b.rate)} keys/s  = ${b.ratio.toFixed(2)} × raw = ANY (target >= 0.7), ${b.ratioJoin.toFixed(2)} × raw lateral (medians of ${ROUNDS} rounds, each against the raw run just before it)\n`,
      );
    }
    const line = (name: string, r: autocannon.Result) =>
      `  ${name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms\n`;
    for (const [i, r] of singleRounds.entries()) {
      out.write(`  round ${i + 1}: { __typename } ${Math.round(r.trivial.requests.average)} req/s, screen ${Math.round(r.screen.requests.average)} req/s = ${r.ratio.toFixed(2)}\n`);
    }
    if (trivial && screen) {
      out.write(line(`{ __typename } (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, trivial));
      out.write(line(`screen        (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, screen));
      out.write(`  screen / trivial: ${(screen.requests.average / trivial.requests.average).toFixed(2)} (the median round; target >= 0.8; p99 target < 10 ms)\n`);
    }
    if (twoWorkers) {
      out.write(line(`screen, 2 API processes (CORDON_WORKERS=2)`, twoWorkers));
      if (screen) out.write(`  2 processes / 1: ${(twoWorkers.requests.average / screen.requests.average).toFixed(2)} (2 cores shared with PostgreSQL and the load generator)\n`);
    }
    if (bare) {
      out.write(`  bare Nest + Apollo resolver, raw = ANY lookup, no auth / canonicalisation / audit (bench/bare-server.ts):\n`);
      for (const [size, b] of bare.batch) {
        out.write(`    lookup × ${String(size).padStart(6)} fingerprints: ${Math.round(b.rate)} keys/s = ${b.ratio.toFixed(2)} × raw = ANY (median of ${ROUNDS} rounds)\n`);
      }
      for (const [i, r] of bare.rounds.entries()) {
        out.write(`    round ${i + 1}: { __typename } ${Math.round(r.trivial.requests.average)} req/s, lookupOne ${Math.round(r.screen.requests.average)} req/s = ${r.ratio.toFixed(2)}\n`);
      }
      if (bare.middle) {
        out.write(line(`  lookupOne     (${CONNECTIONS} connections, ${LOAD_SECONDS} s)`, bare.middle.screen));
        out.write(`    lookupOne / trivial: ${bare.middle.ratio.toFixed(2)} (the median round)\n`);
      }
    }
    out.write(`  server resident memory after the run: ${figures.memoryMiB.toFixed(0)} MiB\n`);
    return figures;
  } finally {
    await server.stop();
  }
}

export async function runScreeningBench(): Promise<void> {
  const figures: ScaleFigures[] = [];
  for (const scale of SCALES) figures.push(await runScale(scale));
  if (figures.length > 1) {
    const [base, ...rest] = figures;
    process.stdout.write(`\nscreening: larger scales against ${base.indicators.toLocaleString()} (target: within 20 %)\n`);
    for (const f of rest) {
      for (const [size, b] of f.batch) {
        process.stdout.write(`  ${f.indicators.toLocaleString()}: screenBatch × ${size}: ${(b.rate / base.batch.get(size)!.rate).toFixed(2)} of the ${base.indicators.toLocaleString()} rate\n`);
      }
      if (f.single && base.single) {
        process.stdout.write(`  ${f.indicators.toLocaleString()}: single screen: ${(f.single.requests.average / base.single.requests.average).toFixed(2)} of the ${base.indicators.toLocaleString()} rate\n`);
      }
      process.stdout.write(`  ${f.indicators.toLocaleString()}: memory ${f.memoryMiB.toFixed(0)} MiB vs ${base.memoryMiB.toFixed(0)} MiB\n`);
    }
  }
}
