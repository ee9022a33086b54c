import { randomBytes, randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { generateSigningKey, signStatement } from '@app/signing';
import { startBenchServer } from './server.js';

/**
 * `npm run bench ingest`: statements/s through submitStatements over HTTP in batches of 1,000,
 * against a server in its own process on a fresh database; baseline, in the same run: jose
 * verifying the same JWSs one after another in this process (one core).
 */
const N = Number(process.env.BENCH_STATEMENTS ?? 20_000);
const BATCH = 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);

export async function runIngestBench(): Promise<void> {
  const server = await startBenchServer();
  const gql = server.gql;
  try {
    const member = await gql('mutation { createMember(input: { name: "Bench Exchange", kind: CRYPTO_EXCHANGE }) { id } }', {});
    const contributor = await generateSigningKey('ES256');
    const principal = await gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'ingest', roles: ['CONTRIBUTOR'], publicJwk: contributor.publicJwk },
    });
    const iss = principal.createPrincipal.id as string;
    const now = Math.floor(Date.now() / 1000);
    const statements: string[] = [];
    for (let i = 0; i < N; i++) {
      statements.push(
        await signStatement(contributor.privateJwk as unknown as Parameters<typeof signStatement>[0], {
          iss,
          jti: randomUUID(),
          iat: now,
          indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: `0x${randomBytes(20).toString('hex')}` },
          category: 'CSAM_COMMERCIAL',
          confidence: 70,
          tlp: 'AMBER',
          evidence: { sites: [`https://site-${i}.example/pay`], reference: `report ${i}` },
        }),
      );
    }

    // Baseline: jose verifying the same JWSs, one at a time, in this process.
    const key = await jose.importJWK(contributor.publicJwk, 'ES256');
    let start = process.hrtime.bigint();
    for (const jws of statements) await jose.compactVerify(jws, key, { algorithms: ['ES256'] });
    const verifySeconds = Number(process.hrtime.bigint() - start) / 1e9;

    // Ingest: batches of 1,000 over HTTP, CONCURRENCY requests in flight (a member's uploader).
    const mutation = 'mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code } }';
    await gql(mutation, { jws: statements.slice(0, 100) }, contributor.privateJwk); // warm-up (also counted as stored)
    const batches: string[][] = [];
    for (let i = 100; i < N; i += BATCH) batches.push(statements.slice(i, i + BATCH));
    start = process.hrtime.bigint();
    let accepted = 0;
    const worker = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        const out = (await gql(mutation, { jws: batch }, contributor.privateJwk)).submitStatements as { ok: boolean; code: string }[];
        accepted += out.filter((o) => o.ok).length;
        const refused = out.find((o) => !o.ok);
        if (refused) throw new Error(`a generated statement was refused: ${refused.code}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ingestSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const ingestRate = accepted / ingestSeconds;
    const verifyRate = N / verifySeconds;
    process.stdout.write(`\ningest (submitStatements, batches of ${BATCH}, ${CONCURRENCY} in flight, ${accepted} statements, server in its own process)\n`);
    process.stdout.write(`  ingest:           ${Math.round(ingestRate)} statements/s\n`);
    process.stdout.write(`  jose verify only: ${Math.round(verifyRate)} JWS/s (same JWSs, one at a time, this process)\n`);
    process.stdout.write(`  ratio ingest / bare verify: ${(ingestRate / verifyRate).toFixed(2)} (target >= 0.6)\n`);
  } finally {
    await server.stop();
  }
}
