import { randomBytes, randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { generateSigningKey, signStatement } from '@app/signing';
import { type BenchServer, benchBuilds, cpuReading, cpuUsed, startBenchServer } from './server.js';

/**
 * `npm run bench ingest`: statements/s through submitStatements over HTTP in batches of 1,000,
 * against a server in its own process on a fresh database; baseline, in the same run: jose
 * verifying the same JWSs one after another in this process (one core). CPU seconds per 1,000
 * statements of the server process and of PostgreSQL, from /proc (steadier than rates here).
 *
 * ROUNDS rounds (BENCH_ROUNDS, default 3), each with N fresh statements (BENCH_STATEMENTS). With
 * BENCH_BASELINE (bench/server.ts), a baseline build's server runs beside this one's, each
 * round measuring both in turn, and the per-round ratios current / baseline are reported.
 */
const N = Number(process.env.BENCH_STATEMENTS ?? 20_000);
const BATCH = 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MUTATION = 'mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code } }';

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Contributor {
  server: BenchServer;
  iss: string;
  key: Awaited<ReturnType<typeof generateSigningKey>>;
}

interface Round {
  /** statements/s through submitStatements */
  rate: number;
  /** the same JWSs verified by jose one at a time, JWS/s */
  verifyRate: number;
  /** CPU seconds per 1,000 statements */
  serverCpu: number;
  postgresCpu: number;
}

async function contributor(server: BenchServer): Promise<Contributor> {
  const member = await server.gql('mutation { createMember(input: { name: "Bench Exchange", kind: CRYPTO_EXCHANGE }) { id } }', {});
  const key = await generateSigningKey('ES256');
  const principal = await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
    i: { memberId: member.createMember.id, name: 'ingest', roles: ['CONTRIBUTOR'], publicJwk: key.publicJwk },
  });
  const c = { server, iss: principal.createPrincipal.id as string, key };
  await c.server.gql(MUTATION, { jws: await statements(c, 100) }, key.privateJwk); // warm-up
  return c;
}

/** `n` fresh AMBER wallet statements of the contributor, each with a site and a reference. */
async function statements(c: Contributor, n: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await signStatement(c.key.privateJwk as unknown as Parameters<typeof signStatement>[0], {
        iss: c.iss,
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
  return out;
}

/** One round on one server: N fresh statements verified by jose, then submitted in batches, CONCURRENCY in flight. */
async function round(c: Contributor): Promise<Round> {
  const jws = await statements(c, N);
  const key = await jose.importJWK(c.key.publicJwk, 'ES256');
  let start = process.hrtime.bigint();
  for (const one of jws) await jose.compactVerify(one, key, { algorithms: ['ES256'] });
  const verifySeconds = Number(process.hrtime.bigint() - start) / 1e9;

  const batches: string[][] = [];
  for (let i = 0; i < N; i += BATCH) batches.push(jws.slice(i, i + BATCH));
  let accepted = 0;
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      const out = (await c.server.gql(MUTATION, { jws: batch }, c.key.privateJwk)).submitStatements as { ok: boolean; code: string }[];
      accepted += out.filter((o) => o.ok).length;
      const refused = out.find((o) => !o.ok);
      if (refused) throw new Error(`a generated statement was refused: ${refused.code}`);
    }
  };
  const cpu0 = await cpuReading(c.server.pid);
  start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuUsed(cpu0, await cpuReading(c.server.pid));
  if (accepted !== N) throw new Error(`${accepted} of ${N} statements accepted`);
  return { rate: N / seconds, verifyRate: N / verifySeconds, serverCpu: (cpu.server / N) * 1000, postgresCpu: (cpu.postgres / N) * 1000 };
}

export async function runIngestBench(): Promise<void> {
  const builds = benchBuilds();
  const servers: BenchServer[] = [];
  try {
    const contributors: Contributor[] = [];
    for (const build of builds) {
      const server = await startBenchServer({}, undefined, build);
      servers.push(server);
      contributors.push(await contributor(server));
    }
    const rounds = contributors.map((): Round[] => []);
    for (let r = 0; r < ROUNDS; r++) for (const [i, c] of contributors.entries()) rounds[i].push(await round(c));

    const out = process.stdout;
    out.write(`\ningest (submitStatements, batches of ${BATCH}, ${CONCURRENCY} in flight, ${N} statements a round, ${ROUNDS} rounds, server in its own process)\n`);
    for (const [i, build] of builds.entries()) {
      const rs = rounds[i];
      const rate = median(rs.map((x) => x.rate));
      const verify = median(rs.map((x) => x.verifyRate));
      out.write(`  ${build.name} (${build.root}):\n`);
      out.write(`    ingest:           ${Math.round(rate)} statements/s (rounds ${rs.map((x) => Math.round(x.rate)).join(', ')})\n`);
      out.write(`    jose verify only: ${Math.round(verify)} JWS/s (same JWSs, one at a time, this process)\n`);
      out.write(`    ratio ingest / bare verify: ${median(rs.map((x) => x.rate / x.verifyRate)).toFixed(2)} (median of the rounds; target >= 0.6)\n`);
      out.write(
        `    CPU per 1,000 statements: server ${median(rs.map((x) => x.serverCpu)).toFixed(3)} s, PostgreSQL ${median(rs.map((x) => x.postgresCpu)).toFixed(3)} s\n`,
      );
    }
    if (builds.length > 1) {
      const [base, current] = [rounds[0], rounds[1]];
      const ratios = (f: (r: Round) => number) => current.map((r, i) => f(r) / f(base[i]));
      const show = (rs: number[]) => `${median(rs).toFixed(2)} (rounds ${rs.map((r) => r.toFixed(2)).join(', ')})`;
      out.write(`  current / baseline, round by round (target: rate >= 0.90):\n`);
      out.write(`    ingest rate:          ${show(ratios((r) => r.rate))}\n`);
      out.write(`    server CPU/statement: ${show(ratios((r) => r.serverCpu))}\n`);
      out.write(`    PostgreSQL CPU/stmt:  ${show(ratios((r) => r.postgresCpu))}\n`);
      out.write(`    server + PostgreSQL CPU/statement: ${show(ratios((r) => r.serverCpu + r.postgresCpu))}\n`);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
}
