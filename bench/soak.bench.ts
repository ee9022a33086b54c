import { randomBytes, randomUUID } from 'node:crypto';
import { generateSigningKey, type PrivateJwk, signBearerToken, signStatement } from '@app/signing';
import { residentMiB, startBenchServer } from './server.js';

/**
 * `npm run bench:soak` (not in CI): BENCH_SOAK_SECONDS (default 600) of mixed load against one
 * server in its own process — single screens (8 in flight), screenBatch of 1,000, statement
 * batches of 100, and a change-feed reader — printing every BENCH_SOAK_EVERY seconds the
 * requests of each kind, errors and the server's resident memory; at the end the error count and
 * memory at start (after the first interval) and end. Target: 0 errors, memory flat within 10 %.
 */
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const EVERY = Number(process.env.BENCH_SOAK_EVERY ?? 30);

export async function runSoakBench(): Promise<void> {
  const server = await startBenchServer();
  try {
    const member = await server.gql('mutation { createMember(input: { name: "Soak Exchange", kind: CRYPTO_EXCHANGE }) { id } }');
    const key = await generateSigningKey('ES256');
    const principal = await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'soak', roles: ['SCREENER', 'CONTRIBUTOR'], publicJwk: key.publicJwk },
    });
    const iss = principal.createPrincipal.id as string;
    const jwk = key.privateJwk as PrivateJwk;
    let token = await signBearerToken(jwk, { audience: 'cordon', lifetimeSeconds: 300 });
    const refresh = setInterval(() => void signBearerToken(jwk, { audience: 'cordon', lifetimeSeconds: 300 }).then((t) => (token = t)), 120_000);

    const counts: Record<string, number> = { screen: 0, screenBatch: 0, submit: 0, changes: 0 };
    let errors = 0;
    const firstErrors: string[] = [];
    const call = async (kind: string, query: string, variables: unknown) => {
      try {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: any; errors?: unknown[] };
        if (!res.ok || body.errors) throw new Error(`${res.status} ${JSON.stringify(body.errors).slice(0, 200)}`);
        counts[kind]++;
        return body.data;
      } catch (err) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(`${kind}: ${(err as Error).message}`);
        return undefined;
      }
    };
    const listed: string[] = [];
    const address = () => (listed.length > 0 && Math.random() < 0.01 ? listed[Math.floor(Math.random() * listed.length)] : `0x${randomBytes(20).toString('hex')}`);
    const end = Date.now() + SECONDS * 1000;
    const loop = (fn: () => Promise<unknown>) => (async () => {
      while (Date.now() < end) await fn();
    })();

    let cursor: string | null = null;
    const workers = [
      ...Array.from({ length: 8 }, () =>
        loop(() => call('screen', 'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match } }', { v: address() })),
      ),
      loop(() =>
        call('screenBatch', 'query($i: [ScreenInput!]!) { screenBatch(inputs: $i) { match } }', {
          i: Array.from({ length: 1000 }, () => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: address() })),
        }),
      ),
      loop(async () => {
        const now = Math.floor(Date.now() / 1000);
        const values = Array.from({ length: 100 }, () => `0x${randomBytes(20).toString('hex')}`);
        const jws = await Promise.all(
          values.map((value) =>
            signStatement(jwk as unknown as Parameters<typeof signStatement>[0], {
              iss, jti: randomUUID(), iat: now, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value },
              category: 'CSAM_COMMERCIAL', confidence: 70, tlp: 'GREEN',
            }),
          ),
        );
        const out = await call('submit', 'mutation($j: [String!]!) { submitStatements(jws: $j) { ok code } }', { j: jws });
        if (out && listed.length < 100_000) listed.push(...values);
      }),
      loop(async () => {
        const out = await call('changes', 'query($a: String) { changes(after: $a, first: 500) { pageInfo { endCursor } } }', { a: cursor });
        cursor = out?.changes.pageInfo.endCursor ?? cursor;
        await new Promise((r) => setTimeout(r, 1000));
      }),
    ];

    const started = Date.now();
    const memory: number[] = [];
    let last = { ...counts };
    const report = setInterval(async () => {
      const mib = await residentMiB(server.pid);
      memory.push(mib);
      const delta = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round((v - last[k]) / EVERY)]));
      last = { ...counts };
      process.stdout.write(
        `  ${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s: ${Object.entries(delta).map(([k, v]) => `${k} ${v}/s`).join(', ')}; errors ${errors}; server ${mib.toFixed(0)} MiB\n`,
      );
    }, EVERY * 1000);
    process.stdout.write(`\nsoak: ${SECONDS} s of mixed load (8 single screens in flight, screenBatch × 1,000, submitStatements × 100, change feed)\n`);
    await Promise.all(workers);
    clearInterval(report);
    clearInterval(refresh);
    const first = memory[0];
    const lastMib = await residentMiB(server.pid);
    process.stdout.write(`  totals: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}; errors ${errors}\n`);
    for (const e of firstErrors) process.stdout.write(`    ${e}\n`);
    if (first !== undefined) {
      process.stdout.write(`  server memory: ${first.toFixed(0)} MiB after ${EVERY} s, ${lastMib.toFixed(0)} MiB at the end (${(((lastMib - first) / first) * 100).toFixed(1)} %; target within 10 %)\n`);
      // Resident memory swings with garbage collection: compare the mean of the first and last quarter too.
      const quarter = Math.max(1, Math.floor(memory.length / 4));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const [early, late] = [mean(memory.slice(0, quarter)), mean(memory.slice(-quarter))];
      process.stdout.write(`  server memory, mean of the first and last quarter: ${early.toFixed(0)} → ${late.toFixed(0)} MiB (${(((late - early) / early) * 100).toFixed(1)} %), range ${Math.min(...memory).toFixed(0)}–${Math.max(...memory).toFixed(0)} MiB\n`);
    }
  } finally {
    await server.stop();
  }
}
