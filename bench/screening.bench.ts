import { createHash, randomBytes } from 'node:crypto';
import { generateSigningKey } from '@app/signing';
import { startBenchServer, withClient } from './server.js';

/**
 * `npm run bench screening`: seeds BENCH_INDICATORS (default 1,000,000) ACTIVE wallet indicators
 * with set-based SQL (not the API), then measures screenBatch over HTTP with 1,000- and
 * 10,000-input batches of EVM addresses (~1 % hits), against the raw SQL lookup of the same keys
 * (`pg`, `= ANY($1)` on the fingerprint index, no HTTP, no GraphQL) in the same run.
 */
const INDICATORS = Number(process.env.BENCH_INDICATORS ?? 1_000_000);
const KEYS = Number(process.env.BENCH_KEYS ?? 50_000);

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const fingerprint = (value: string) => createHash('sha256').update(`WALLET_ADDRESS|ethereum|${value}`).digest('hex');

export async function runScreeningBench(): Promise<void> {
  const server = await startBenchServer();
  const dbUrl = server.dbUrl;
  try {
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
    const member = await server.gql('mutation { createMember(input: { name: "Bench Screener", kind: CRYPTO_EXCHANGE }) { id } }');
    const screener = await generateSigningKey('ES256');
    await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
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
      await server.gql(query, { inputs: keys.slice(0, batch).map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) }, screener.privateJwk);
      const start = process.hrtime.bigint();
      let hits = 0;
      for (let i = 0; i < keys.length; i += batch) {
        const out = (await server.gql(query, { inputs: keys.slice(i, i + batch).map((v) => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: v })) }, screener.privateJwk)).screenBatch as { match: boolean }[];
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
    await server.stop();
  }
}
