import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSigningKey, signBearerToken } from '@app/signing';

/**
 * `npm run bench screening`: seeds BENCH_INDICATORS (default 1,000,000) ACTIVE wallet indicators
 * with set-based SQL (not the API), then measures screenBatch over HTTP with 1,000- and
 * 10,000-input batches of EVM addresses (~1 % hits), against the raw SQL lookup of the same keys
 * (`pg`, `= ANY($1)` on the fingerprint index, no HTTP, no GraphQL) in the same run.
 */
const INDICATORS = Number(process.env.BENCH_INDICATORS ?? 1_000_000);
const KEYS = Number(process.env.BENCH_KEYS ?? 50_000);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const fingerprint = (value: string) => createHash('sha256').update(`WALLET_ADDRESS|ethereum|${value}`).digest('hex');

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('server exited');
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

export async function runScreeningBench(): Promise<void> {
  const dbName = `cordon_bench_${randomBytes(4).toString('hex')}`;
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const admin = await generateSigningKey('ES256');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/apps/api/src/main.js')], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: dbUrl.toString(), CORDON_BOOTSTRAP_ADMIN_JWK: JSON.stringify(admin.publicJwk), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitForHealth(url, child);
    // Seed: one ACTIVE, CLEAR indicator per n (address n), with its SPEC 3 fingerprint, set-based.
    const seedStart = Date.now();
    await withClient(dbUrl.toString(), (c) =>
      c.query(
        `INSERT INTO indicator (kind, network, value, fingerprint, status, category, confidence, tlp, open_tlp, attestation_count, first_seen_at, last_seen_at)
         SELECT 'WALLET_ADDRESS', 'ethereum', v, encode(sha256(convert_to('WALLET_ADDRESS|ethereum|' || v, 'UTF8')), 'hex'),
                'ACTIVE', 'CSAM_COMMERCIAL', 80, 'CLEAR', true, 1, now(), now()
           FROM (SELECT '0x' || lpad(to_hex(n), 40, '0') AS v FROM generate_series(1, $1::int) AS n) s`,
        [INDICATORS],
      ),
    );
    await withClient(dbUrl.toString(), (c) => c.query('ANALYZE indicator'));
    const seedSeconds = (Date.now() - seedStart) / 1000;
    // Keys: ~1 % listed addresses, the rest unknown.
    const keys = Array.from({ length: KEYS }, (_, i) => (i % 100 === 0 ? address(1 + ((i * 7919) % INDICATORS)) : `0x${randomBytes(20).toString('hex')}`));
    const member = await gql(url, admin, 'mutation { createMember(input: { name: "Bench Screener", kind: CRYPTO_EXCHANGE }) { id } }');
    const screener = await generateSigningKey('ES256');
    await gql(url, admin, 'mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'screener', roles: ['SCREENER'], publicJwk: screener.publicJwk },
    });

    // Baseline: the raw lookup of the same keys (fingerprints computed here), batches of 10,000.
    const raw = await withClient(dbUrl.toString(), async (c) => {
      const fps = keys.map(fingerprint);
      await c.query('SELECT fingerprint FROM indicator WHERE fingerprint = ANY($1)', [fps.slice(0, 1000)]);
      const start = process.hrtime.bigint();
      let hits = 0;
      for (let i = 0; i < fps.length; i += 10_000) hits += (await c.query('SELECT id, fingerprint, status FROM indicator WHERE fingerprint = ANY($1)', [fps.slice(i, i + 10_000)])).rowCount ?? 0;
      return { rate: fps.length / (Number(process.hrtime.bigint() - start) / 1e9), hits };
    });

    const query = 'query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { match matchedVia indicator { id status } } }';
    const results: string[] = [];
    for (const batch of [1000, 10_000]) {
      await gql(url, screener, query, { inputs: keys.slice(0, batch).map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) });
      const start = process.hrtime.bigint();
      let hits = 0;
      for (let i = 0; i < keys.length; i += batch) {
        const out = (await gql(url, screener, query, { inputs: keys.slice(i, i + batch).map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) })).screenBatch as { match: boolean }[];
        hits += out.filter((o) => o.match).length;
      }
      const rate = keys.length / (Number(process.hrtime.bigint() - start) / 1e9);
      if (hits !== raw.hits) throw new Error(`screenBatch found ${hits} matches, raw SQL ${raw.hits}`);
      results.push(`  screenBatch × ${String(batch).padStart(6)}: ${Math.round(rate)} keys/s  (${(rate / raw.rate).toFixed(2)} of raw SQL)`);
    }
    process.stdout.write(`\nscreening (${INDICATORS.toLocaleString()} ACTIVE indicators seeded in ${seedSeconds.toFixed(0)} s; ${KEYS.toLocaleString()} keys, ${raw.hits} hits)\n`);
    process.stdout.write(`  raw SQL (pg, = ANY($1), 10,000 per query): ${Math.round(raw.rate)} keys/s\n`);
    process.stdout.write(results.join('\n') + '\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}

async function gql(url: string, key: Awaited<ReturnType<typeof generateSigningKey>>, query: string, variables: unknown = {}) {
  const token = await signBearerToken(key.privateJwk, { audience: 'cordon', lifetimeSeconds: 300 });
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
  return body.data;
}
