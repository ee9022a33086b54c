import { generateSigningKey, type PrivateJwk } from '@app/signing';
import { type BenchServer, residentMiB, startBenchServer, withClient } from './server.js';

/**
 * `npm run bench audit`: the audit log's proofs and checkpoints at 10,000, 1,000,000 and
 * 10,000,000 events (BENCH_AUDIT_SCALES), each on a fresh database bulk-loaded with synthetic
 * events (set-based SQL: canonical JSON, RFC 9162 leaf hashes, then every stored subtree hash
 * level by level), measured over HTTP: auditCheckpoint, auditInclusionProof and
 * auditConsistencyProof at random indexes and sizes — median and p95 of BENCH_AUDIT_CALLS calls —
 * and the ratio of each to the smallest scale (target: 10M / 10k <= 3, each < 50 ms).
 */
const SCALES = (process.env.BENCH_AUDIT_SCALES ?? '10000,1000000,10000000').split(',').map(Number);
const CALLS = Number(process.env.BENCH_AUDIT_CALLS ?? 200);

async function seed(server: BenchServer, events: number): Promise<number> {
  const start = Date.now();
  await withClient(server.dbUrl, async (c) => {
    const [{ size }] = (await c.query('SELECT size FROM audit_head')).rows as { size: string }[];
    const base = Number(size);
    for (let from = base; from < base + events; from += 1_000_000) {
      const to = Math.min(base + events, from + 1_000_000) - 1;
      await c.query(
        `INSERT INTO audit_event (idx, at, action, actor_principal_id, actor_member_id, subject_id, subject_member_id, canonical, leaf_hash)
         SELECT n, '2026-01-01T00:00:00Z', 'bench.synthetic', NULL, NULL, NULL, NULL, t, sha256(decode('00', 'hex') || convert_to(t, 'UTF8'))
           FROM (SELECT n, '{"action":"bench.synthetic","actor":null,"at":"2026-01-01T00:00:00.000Z","data":{"n":' || n || '},"index":' || n ||
                        ',"salt":"' || translate(rtrim(encode(sha256(convert_to(n::text || random()::text, 'UTF8')), 'base64'), '='), '+/', '-_') ||
                        '","subject":null,"subjectMember":null,"v":2}' AS t
                   FROM generate_series($1::bigint, $2::bigint) AS n) s`,
        [from, to],
      );
    }
    await c.query('UPDATE audit_head SET size = $1', [base + events]);
  });
  // Integrate through the service (first checkpoint), as it would in production.
  return (Date.now() - start) / 1000;
}

function stats(ms: number[]): { p50: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)] };
}

interface Figures {
  events: number;
  integrateSeconds: number;
  checkpoint: { p50: number; p95: number };
  inclusion: { p50: number; p95: number };
  consistency: { p50: number; p95: number };
  memoryMiB: number;
}

async function runScale(events: number): Promise<Figures> {
  const server = await startBenchServer();
  try {
    const auditor = await generateSigningKey('ES256');
    const member = await server.gql('mutation { createMember(input: { name: "Bench Monitor", kind: COORDINATOR }) { id } }');
    await server.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.createMember.id, name: 'monitor', roles: ['AUDITOR'], publicJwk: auditor.publicJwk },
    });
    const seedSeconds = await seed(server, events);
    const key = auditor.privateJwk as PrivateJwk;
    let start = process.hrtime.bigint();
    const first = (await server.gql('{ auditCheckpoint { treeSize rootHash } }', {}, key)).auditCheckpoint as { treeSize: number };
    const integrateSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const n = first.treeSize;
    const time = async (query: string, vars: () => Record<string, number>) => {
      const ms: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const v = vars();
        start = process.hrtime.bigint();
        await server.gql(query, v, key);
        ms.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return stats(ms);
    };
    const rnd = (max: number) => 1 + Math.floor(Math.random() * max);
    const checkpoint = await time('{ auditCheckpoint { treeSize rootHash signature } }', () => ({}));
    const inclusion = await time('query($i: BigInt!, $n: BigInt!) { auditInclusionProof(index: $i, treeSize: $n) { path } }', () => {
      const size = n - rnd(Math.min(n - 1, 1000)) + 1;
      return { i: rnd(size) - 1, n: size };
    });
    const consistency = await time('query($m: BigInt!, $n: BigInt!) { auditConsistencyProof(fromSize: $m, toSize: $n) { path } }', () => {
      const to = n - rnd(Math.min(n - 1, 1000)) + 1;
      return { m: rnd(to), n: to };
    });
    const figures = { events: n, integrateSeconds, checkpoint, inclusion, consistency, memoryMiB: await residentMiB(server.pid) };
    const out = process.stdout;
    out.write(`\naudit log at ${n.toLocaleString()} events (bulk-loaded in ${seedSeconds.toFixed(0)} s; the service integrated the tree in ${integrateSeconds.toFixed(1)} s)\n`);
    for (const [name, s] of [['auditCheckpoint', checkpoint], ['auditInclusionProof', inclusion], ['auditConsistencyProof', consistency]] as const) {
      out.write(`  ${name.padEnd(22)} p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms (${CALLS} calls over HTTP)\n`);
    }
    out.write(`  server resident memory: ${figures.memoryMiB.toFixed(0)} MiB\n`);
    return figures;
  } finally {
    await server.stop();
  }
}

export async function runAuditBench(): Promise<void> {
  const all: Figures[] = [];
  for (const scale of SCALES) all.push(await runScale(scale));
  if (all.length > 1) {
    const base = all[0];
    process.stdout.write(`\naudit log: against ${base.events.toLocaleString()} events (target: <= 3, each < 50 ms)\n`);
    for (const f of all.slice(1)) {
      const r = (k: 'checkpoint' | 'inclusion' | 'consistency') => (f[k].p50 / base[k].p50).toFixed(2);
      process.stdout.write(`  ${f.events.toLocaleString()}: checkpoint ${r('checkpoint')}, inclusion ${r('inclusion')}, consistency ${r('consistency')} (p50 ratios)\n`);
    }
  }
}
